import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { startRedis } from '../../src/sweep/processes.js';
import { checkQueue } from '../../src/sweep/queue.js';
import { skipWithoutRedis } from './helpers.js';

describe('the embedded redis-server', { skip: skipWithoutRedis }, () => {
  test('starts from a directory given relative to the working directory (pn sweep --out runs/x)', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'pn-redis-'));
    try {
      const dir = relative(process.cwd(), join(scratch, 'redis'));
      assert.ok(!dir.startsWith('/'));
      const redis = await startRedis(dir, 'secret');
      try {
        await checkQueue(redis.url, 2000);
        assert.ok(existsSync(join(scratch, 'redis', 'redis.log')), 'its log beside its config');
      } finally {
        await redis.stop();
      }
      assert.notEqual(redis.process.exitCode ?? redis.process.signalCode, null, 'stopped');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
