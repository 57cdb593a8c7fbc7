/**
 * Image IDs are the digest of the image config, so the same content gives the same ID, as in
 * Docker (compose compares IDs to decide what to recreate). Where Docker writes a fresh `created`
 * time (import, commit, build --no-cache) the IDs differ in Docker too; the layers stay the same.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import type { TestDaemon } from '../helpers/berthd.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

describe('stable image IDs on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args, { env: { DOCKER_BUILDKIT: '0' } });
  const imageId = async (name: string) => (await run('image', 'inspect', '-f', '{{.Id}}', name)).stdout.trim();
  const layers = async (name: string) => (await run('image', 'inspect', '-f', '{{json .RootFS.Layers}}', name)).stdout.trim();
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('a rebuild of the same context is the same ID, also after the copied file was touched (mtime is not content)', async () => {
    const ctx = mkdtempSync(join(daemon.root, 'ctx-'));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY f.txt /f.txt\nRUN cat /f.txt > /g.txt\n');
    writeFileSync(join(ctx, 'f.txt'), 'content\n');
    const first = await run('build', '-q', '-t', 'stable', ctx);
    assert.equal(first.code, 0, first.stderr);
    const id = await imageId('stable');
    assert.equal(first.stdout.trim(), id);
    utimesSync(join(ctx, 'f.txt'), new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    assert.equal((await run('build', '-q', '-t', 'stable', ctx)).stdout.trim(), id);
    writeFileSync(join(ctx, 'f.txt'), 'other content\n');
    assert.notEqual((await run('build', '-q', '-t', 'stable', ctx)).stdout.trim(), id, 'new content, new ID');
  });

  test('loading the same saved image twice, or after removing it, gives the same ID', async () => {
    const tar = join(daemon.root, 'saved.tar');
    assert.equal((await run('save', '-o', tar, 'busybox')).code, 0);
    const id = await imageId('busybox');
    assert.equal((await run('load', '-i', tar)).code, 0);
    assert.equal(await imageId('busybox'), id);
    assert.equal((await run('tag', 'busybox', 'busybox-copy')).code, 0);
    assert.equal((await run('rmi', 'busybox')).code, 0);
    assert.equal((await run('load', '-i', tar)).code, 0);
    assert.equal(await imageId('busybox'), id);
  });

  test('import and commit of the same content give the same layers (their IDs carry the created time, as in Docker)', async () => {
    const rootfs = join(daemon.root, 'busybox.tar');
    assert.equal((await run('import', rootfs, 'imported-a')).code, 0);
    assert.equal((await run('import', rootfs, 'imported-b')).code, 0);
    assert.equal(await layers('imported-a'), await layers('imported-b'));
    const created = await run('create', '--name', 'to-commit', 'busybox', 'true');
    assert.equal(created.code, 0, created.stderr);
    try {
      assert.equal((await run('commit', 'to-commit', 'committed-a')).code, 0);
      assert.equal((await run('commit', 'to-commit', 'committed-b')).code, 0);
      assert.equal(await layers('committed-a'), await layers('committed-b'));
    } finally {
      await run('rm', '-f', 'to-commit');
    }
  });
});
