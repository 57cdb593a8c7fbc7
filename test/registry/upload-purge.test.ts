/**
 * Unfinished blob uploads do not stay for good: at start (and then periodically) berth-registry
 * removes those started longer ago than --upload-purge-age, as distribution's upload purging does;
 * a recent upload can still be finished.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest, startRegistry } from '../helpers/registry.js';

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const DAY_MS = 24 * 3600 * 1000;

test('start purges uploads older than --upload-purge-age and keeps a recent one usable', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-registry-purge-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  // A first server makes the storage layout and a real upload session, then is killed mid-push.
  const first = await startRegistry({ root });
  const started = await rawRequest(first.port, 'POST', '/v2/purge/app/blobs/uploads/');
  assert.equal(started.status, 202);
  const recent = String(started.headers['location']).split('/').pop()!;
  await first.crash();

  const uploads = join(root, 'storage', 'uploads');
  const stale = '00000000-0000-4000-8000-000000000001';
  await mkdir(join(uploads, stale));
  await writeFile(join(uploads, stale, 'data'), Buffer.alloc(4096));
  await writeFile(join(uploads, stale, 'info.json'), JSON.stringify({ name: 'purge/app', startedAt: new Date(Date.now() - 8 * DAY_MS).toISOString() }));

  const registry = await startRegistry({ root });
  t.after(() => registry.cleanup());
  assert.deepEqual((await readdir(uploads)).sort(), [recent], 'the 8-day-old upload is gone, the recent one stays');

  const blob = Buffer.from('finished after the restart');
  const put = await rawRequest(registry.port, 'PUT', `/v2/purge/app/blobs/uploads/${recent}?digest=${sha256(blob)}`, { body: blob });
  assert.equal(put.status, 201, put.text);
});

test('--upload-purge-age 0 keeps every upload; a bad value is refused', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-registry-purge-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const first = await startRegistry({ root });
  await first.stop();
  const uploads = join(root, 'storage', 'uploads');
  const old = '00000000-0000-4000-8000-000000000002';
  await mkdir(join(uploads, old));
  await writeFile(join(uploads, old, 'info.json'), JSON.stringify({ name: 'purge/app', startedAt: new Date(Date.now() - 30 * DAY_MS).toISOString() }));

  const keeping = await startRegistry({ root, args: ['--upload-purge-age', '0'] });
  await keeping.cleanup();
  assert.deepEqual(await readdir(uploads), [old]);

  await assert.rejects(startRegistry({ root, args: ['--upload-purge-age', 'soon'] }), /invalid --upload-purge-age soon/);
});
