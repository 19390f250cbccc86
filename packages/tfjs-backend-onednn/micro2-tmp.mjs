import { native, setThreads } from './dist/src/native.js';

setThreads(1);
const s = {
  batch: 128,
  inH: 14,
  inW: 14,
  inC: 6,
  outH: 10,
  outW: 10,
  outC: 16,
  kH: 5,
  kW: 5,
  strideH: 1,
  strideW: 1,
  padTop: 0,
  padBottom: 0,
  padLeft: 0,
  padRight: 0,
  dilationH: 1,
  dilationW: 1,
};
const dy = new Float32Array(128 * 10 * 10 * 16).fill(0.1),
  filter = new Float32Array(5 * 5 * 6 * 16).fill(0.01),
  dx = new Float32Array(128 * 14 * 14 * 6);
const x = new Float32Array(dx.length).fill(0.5),
  dw = new Float32Array(filter.length),
  out = new Float32Array(dy.length);
for (const [name, f] of [
  ['bwd_data', () => native.conv2dBackpropInput({ ...s, dy, filter, dx })],
  ['fwd', () => native.conv2d({ ...s, x, filter, out })],
  ['bwd_w', () => native.conv2dBackpropFilter({ ...s, x, dy, dw })],
]) {
  for (let i = 0; i < 3; i++) f();
  const t = performance.now();
  for (let i = 0; i < 20; i++) f();
  console.log(name, ((performance.now() - t) / 20).toFixed(2), 'ms');
}
