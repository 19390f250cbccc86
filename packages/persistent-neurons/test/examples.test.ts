import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The README's library examples, run as a user runs them.
for (const example of ['custom-loop.mjs', 'trainer.mjs', 'fit.mjs']) {
  test(`examples/${example} runs and trains three trajectories`, () => {
    const path = fileURLToPath(new URL(`../../examples/${example}`, import.meta.url));
    const result = spawnSync(process.execPath, [path], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /trajectory 1: .*mse 0\.\d+\ntrajectory 2: .*\ntrajectory 3: /);
  });
}

test("the README's fitPersistent example is examples/fit.mjs, less its two header lines", () => {
  const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('../../examples/fit.mjs', import.meta.url), 'utf8');
  const code = example.split('\n').slice(2).join('\n').trimStart();
  assert.ok(readme.includes(`\`\`\`js\n${code}\`\`\``), 'README.md does not show examples/fit.mjs as it is');
});
