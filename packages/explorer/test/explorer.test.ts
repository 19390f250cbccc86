import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { methodOptions, trainPersistent } from 'persistent-neurons/core';
import { Toy2dTask, toy2dDefaults } from 'persistent-neurons/tasks';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, servePage } from '../scripts/browser.js';

// Without a GPU, chromium's WebGL is software-rendered, so the page runs tfjs on cpu: runs are kept small.
const skip = existsSync(CHROMIUM)
  ? false
  : `no ${CHROMIUM}: install Debian's chromium (scripts/setup.sh does when it can)`;

describe('the explorer page in headless chromium', { skip }, () => {
  let server: Awaited<ReturnType<typeof servePage>>;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([servePage(), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Opens the page with `query`, collecting console errors and uncaught exceptions (of workers too). */
  async function open(query: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}?${query}`);
    return { page, errors };
  }

  const settled = (page: Page, panel: string, state: string) =>
    page.waitForSelector(`#${panel}[data-state="${state}"]`, { timeout: 30_000 });

  test('loads with no console errors and shows its tfjs backend', async () => {
    const { page, errors } = await open('');
    await Promise.all([settled(page, 'landscape', 'idle'), settled(page, 'kink', 'idle')]);
    assert.match((await page.textContent('#backend')) ?? '', /^tfjs backend: (webgl|cpu)$/);
    assert.equal(await page.inputValue('#landscape [name="trajectories"]'), '4', 'toy2d quick preset K');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('landscape: 3 persistent trajectories end at three distinct points, drawn and listed with their losses', async () => {
    const { page, errors } = await open('landscape.trajectories=3&landscape.epochs=150');
    await settled(page, 'landscape', 'idle');
    await page.click('#landscape button[name="run"]');
    await settled(page, 'landscape', 'done');
    const ends = await page.$$eval('#landscape ol.ends li', (items) =>
      items.map((item) => ({
        x: Number((item as HTMLElement).dataset.x),
        y: Number((item as HTMLElement).dataset.y),
        loss: Number((item as HTMLElement).dataset.loss),
        text: item.textContent ?? '',
        colour: getComputedStyle(item, '::before').backgroundColor,
      })),
    );
    assert.equal(ends.length, 3);
    for (const [i, a] of ends.entries()) {
      assert.ok(Number.isFinite(a.loss) && a.text.includes(`loss ${a.loss.toFixed(3)}`), a.text);
      for (const b of ends.slice(i + 1)) assert.ok(Math.hypot(a.x - b.x, a.y - b.y) > 0.5, `${a.text} / ${b.text}`);
    }
    // Each end point's marker on the canvas is filled with its trajectory's colour.
    const markers = await page.$eval(
      '#landscape canvas',
      (canvas, points) => {
        const extent = Number((canvas as HTMLCanvasElement).dataset.extent);
        const last = (canvas as HTMLCanvasElement).width - 1;
        const context = (canvas as HTMLCanvasElement).getContext('2d') as CanvasRenderingContext2D;
        return points.map(({ x, y }) => {
          const pixel = context.getImageData(
            Math.round(((x + extent) / (2 * extent)) * last),
            Math.round(((extent - y) / (2 * extent)) * last),
            1,
            1,
          ).data;
          return `rgb(${pixel[0]}, ${pixel[1]}, ${pixel[2]})`;
        });
      },
      ends,
    );
    assert.deepEqual(
      markers,
      ends.map((end) => end.colour),
    );
    // The method keeps the lowest loss, and the page says which.
    const lowest = ends.reduce((best, end, i) => (end.loss < ends[best].loss ? i : best), 0);
    assert.deepEqual(
      await page.$$eval('#landscape ol.ends li.selected', (items) => items.map((item) => item.textContent)),
      [ends[lowest].text],
    );
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("landscape on software WebGL ends where the library ends on Node's cpu backend", async (t) => {
    const { page, errors } = await open('backend=webgl&landscape.trajectories=2&landscape.epochs=10');
    await settled(page, 'landscape', 'idle');
    if ((await page.getAttribute('#backend', 'data-backend')) !== 'webgl') {
      await page.close();
      return t.skip('this chromium gives workers no WebGL context');
    }
    await page.click('#landscape button[name="run"]');
    await settled(page, 'landscape', 'done');
    const ends = await page.$$eval('#landscape ol.ends li', (items) =>
      items.map((item) => ['x', 'y', 'loss'].map((key) => Number((item as HTMLElement).dataset[key]))),
    );
    assert.deepEqual(errors, []);
    await page.close();
    const expected = await libraryEnds({ trajectories: 2, epochs: 10 });
    assert.equal(ends.length, expected.length);
    ends.flat().forEach((value, i) => {
      assert.ok(Math.abs(value - expected.flat()[i]) < 1e-3, `webgl ${ends} vs cpu ${expected}`);
    });
  });

  test('kink: standard, reinit and persistent each show a final MSE', async () => {
    const { page, errors } = await open('kink.trajectories=2&kink.epochs=10');
    await settled(page, 'kink', 'idle');
    await page.click('#kink button[name="run"]');
    await settled(page, 'kink', 'done');
    const figures = await page.$$eval('#kink figure', (items) =>
      items.map((figure) => ({
        method: (figure as HTMLElement).dataset.method,
        shown: figure.querySelector('output.mse')?.textContent,
        mse: Number((figure.querySelector('output.mse') as HTMLElement).dataset.mse),
        trajectories: figure.querySelector('.trajectories')?.textContent,
      })),
    );
    assert.deepEqual(
      figures.map((f) => f.method),
      ['standard', 'reinit', 'persistent'],
    );
    for (const { method, shown, mse, trajectories } of figures) {
      assert.ok(Number.isFinite(mse) && mse > 0 && mse < 10, `${method}: ${mse}`);
      assert.equal(shown, mse.toFixed(4), method);
      // standard is one trajectory; reinit and persistent run K = 2.
      assert.equal(trajectories?.split('·').length, method === 'standard' ? 1 : 2, `${method}: ${trajectories}`);
    }
    assert.deepEqual(errors, []);
    await page.close();
  });
});

/** [x, y, loss] where each persistent toy2d trajectory from the default start ends, trained here on Node. */
async function libraryEnds(override: { trajectories: number; epochs: number }): Promise<number[][]> {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  const task = new Toy2dTask(toy2dDefaults, [1]);
  const ends: number[][] = [];
  await trainPersistent(task, {
    ...methodOptions('persistent', { ...toy2dDefaults, ...override }),
    onEvent: (event) => {
      if (event.type === 'trajectory') ends.push([...task.position(0), event.records[0].valMetric]);
    },
  });
  task.dispose();
  return ends;
}
