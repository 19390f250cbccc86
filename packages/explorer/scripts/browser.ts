// What the browser tests and the screenshot script share: the built page served on 127.0.0.1,
// and Debian's chromium driven by playwright-core (which downloads no browser of its own).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { preview } from 'vite';

export const CHROMIUM = '/usr/bin/chromium';
/** The explorer package, from dist/scripts/ where this file runs. */
const root = fileURLToPath(new URL('../../', import.meta.url));

/** Serves the page that `vite build` wrote to dist/web, at an ephemeral port. */
export async function servePage(): Promise<{ url: string; close: () => Promise<void> }> {
  if (!existsSync(`${root}dist/web/index.html`))
    throw new Error('the explorer page is not built: run `npm run build -w persistent-neurons-explorer`');
  const server = await preview({ root, logLevel: 'silent', preview: { port: 0, strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not say where it serves the page');
  return { url, close: () => server.close() };
}

/** Headless chromium without a GPU: its WebGL is software-rendered, so the page picks tfjs's cpu backend. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
