/**
 * garbage-collect refuses to run while a writable server holds the store (a push between its blob
 * uploads and its manifest would lose its blobs); a crashed server's lock is taken over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH_REGISTRY, rawRequest, startRegistry } from '../helpers/registry.js';

const run = promisify(execFile);
const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

test('garbage-collect names the serving pid and deletes nothing; after a crash of the server it runs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-registry-gc-lock-'));
  const storage = join(root, 'storage');
  let registry = await startRegistry({ root });
  try {
    // A blob uploaded but not yet referenced by a manifest: exactly what a push in progress looks like.
    const blob = Buffer.from('a layer whose manifest is on its way');
    assert.equal((await rawRequest(registry.port, 'POST', `/v2/gc/app/blobs/uploads/?digest=${sha256(blob)}`, { body: blob })).status, 201);

    const refused = await run(process.execPath, [BERTH_REGISTRY, 'garbage-collect', '--root', storage]).then(
      () => assert.fail('garbage-collect ran beside a serving registry'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`berth-registry server \\(pid ${registry.process.pid}\\) holds the registry storage`));
    assert.equal((await rawRequest(registry.port, 'GET', `/v2/gc/app/blobs/${sha256(blob)}`)).text, blob.toString(), 'nothing was swept');

    const second = await startRegistry({ root }).then(
      async (other) => {
        await other.cleanup();
        assert.fail('a second writable server started on the same storage');
      },
      (err: Error) => err,
    );
    assert.match(second.message, new RegExp(`pid ${registry.process.pid}`));

    await registry.crash(); // SIGKILL: the lock file stays behind, naming a dead pid
    const collected = await run(process.execPath, [BERTH_REGISTRY, 'garbage-collect', '--root', storage]);
    assert.match(collected.stdout, new RegExp(`deleted ${sha256(blob)}`));

    registry = await startRegistry({ root, port: registry.port });
    assert.equal((await rawRequest(registry.port, 'GET', `/v2/gc/app/blobs/${sha256(blob)}`)).status, 404);
  } finally {
    await registry.cleanup();
    await rm(root, { recursive: true, force: true });
  }
});

test('garbage-collect runs beside a --read-only server', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-registry-gc-ro-'));
  const registry = await startRegistry({ root, args: ['--read-only'] });
  try {
    const { stdout } = await run(process.execPath, [BERTH_REGISTRY, 'garbage-collect', '--root', join(root, 'storage')]);
    assert.match(stdout, /0 blobs marked, 0 deleted/);
  } finally {
    await registry.cleanup();
    await rm(root, { recursive: true, force: true });
  }
});
