// Screenshots of both panels after a run with the page's default settings, for the README:
// docs/explorer/landscape.png (with the page's header and its backend badge) and docs/explorer/kink.png.
// Run after a build: `npm run screenshots -w persistent-neurons-explorer`.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium, servePage } from './browser.js';

const out = fileURLToPath(new URL('../../../../docs/explorer/', import.meta.url));
const server = await servePage();
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') console.error(`page: ${message.text()}`);
  });
  await page.goto(server.url);
  for (const panel of ['landscape', 'kink']) {
    await page.waitForSelector(`#${panel}[data-state="idle"]`, { timeout: 60_000 });
    const started = Date.now();
    await page.click(`#${panel} button[name="run"]`);
    await page.waitForSelector(`#${panel}[data-state="done"]`, { timeout: 600_000 });
    console.log(`${panel}: trained in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  mkdirSync(out, { recursive: true });
  // Bounding boxes are relative to the viewport; the clip of a full-page screenshot is relative to the page.
  await page.evaluate(() => window.scrollTo(0, 0));
  const landscape = await page.locator('#landscape').boundingBox();
  if (!landscape) throw new Error('the landscape panel is not on the page');
  await page.screenshot({
    path: `${out}landscape.png`,
    clip: { x: 0, y: 0, width: 1180, height: landscape.y + landscape.height },
    fullPage: true,
  });
  await page.locator('#kink').screenshot({ path: `${out}kink.png` });
  console.log(`backend: ${await page.textContent('#backend')}; wrote ${out}landscape.png and ${out}kink.png`);
} finally {
  await browser.close();
  await server.close();
}
