import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/** The module specifiers a compiled file imports, and whether it touches Node globals. */
function importsOf(file: string): { specifiers: string[]; nodeGlobals: boolean } {
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/(?:import|from)\s*['"]([^'"]+)['"]/g)].map(([, specifier]) => specifier);
  return { specifiers, nodeGlobals: /\bprocess\.|require\(/.test(source) };
}

// The method must run in browsers: src/core imports tfjs and itself, nothing from Node or the rest.
test('src/core imports only tfjs and other core modules', () => {
  const dir = join(src, 'core');
  const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
  assert.ok(files.length >= 6);
  for (const file of files) {
    const { specifiers, nodeGlobals } = importsOf(join(dir, file));
    for (const specifier of specifiers) {
      assert.ok(
        specifier.startsWith('@tensorflow/tfjs-') || /^\.\/[\w-]+\.js$/.test(specifier),
        `${file} imports ${specifier}`,
      );
    }
    assert.ok(!nodeGlobals, `${file} uses Node globals`);
  }
});

// The explorer page bundles the `./tasks` export: everything it reaches must be browser-safe too.
test('the tasks export reaches only tfjs and browser-safe modules', () => {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const { specifiers, nodeGlobals } = importsOf(file);
    assert.ok(!nodeGlobals, `${file} uses Node globals`);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
      else assert.ok(specifier.startsWith('@tensorflow/tfjs-'), `${file} imports ${specifier}`);
    }
  };
  visit(join(src, 'tasks', 'index.js'));
  assert.ok(seen.has(join(src, 'tasks', 'toy2d.js')) && seen.has(join(src, 'core', 'trainer.js')));
  // Only the library's own folders: nothing of the experiments, the report or the CLI.
  for (const file of seen) assert.ok(/[/\\](core|tasks)[/\\][\w-]+\.js$/.test(file), file);
});
