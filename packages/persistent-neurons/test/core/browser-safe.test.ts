import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The method must run in browsers: src/core imports tfjs and itself, nothing from Node or the rest.
test('src/core imports only tfjs and other core modules', () => {
  const dir = fileURLToPath(new URL('../../src/core/', import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
  assert.ok(files.length >= 6);
  for (const file of files) {
    const source = readFileSync(`${dir}${file}`, 'utf8');
    for (const [, specifier] of source.matchAll(/(?:import|from)\s*['"]([^'"]+)['"]/g)) {
      assert.ok(
        specifier.startsWith('@tensorflow/tfjs-') || /^\.\/[\w-]+\.js$/.test(specifier),
        `${file} imports ${specifier}`,
      );
    }
    assert.doesNotMatch(source, /\bprocess\.|require\(/, `${file} uses Node globals`);
  }
});
