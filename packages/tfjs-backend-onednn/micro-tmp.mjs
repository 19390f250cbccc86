import { native } from './dist/src/native.js';

const n = 128 * 28 * 28 * 6;
const x = new Float32Array(n).map(() => Math.random() * 4 - 2),
  out = new Float32Array(n);
for (const op of ['tanh', 'relu', 'square']) {
  for (let i = 0; i < 5; i++) native.unary({ op, x, out });
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) native.unary({ op, x, out });
  console.log(op, ((performance.now() - t0) / 50).toFixed(3), 'ms');
}
const p = {
  batch: 128,
  inH: 28,
  inW: 28,
  channels: 6,
  outH: 14,
  outW: 14,
  kH: 2,
  kW: 2,
  strideH: 2,
  strideW: 2,
  padTop: 0,
  padLeft: 0,
};
const po = new Float32Array(n / 4);
let t0 = performance.now();
for (let i = 0; i < 50; i++) native.avgPool({ ...p, x, out: po });
console.log('avgPool', ((performance.now() - t0) / 50).toFixed(3), 'ms');
t0 = performance.now();
for (let i = 0; i < 50; i++) native.avgPoolGrad({ ...p, dy: po, dx: out });
console.log('avgPoolGrad', ((performance.now() - t0) / 50).toFixed(3), 'ms');
