/**
 * `docker load` archives from outside: compressed as Docker accepts them, capped when they unpack
 * too far, and hostile names or links that must neither escape nor read a host file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { LocalContentStore } from '../content/index.js';
import { buildTar } from '../archive/tar-writer.js';
import { readImageArchive } from './image-load.js';

const platform = { os: 'linux', architecture: 'amd64' };
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('docker load archives', () => {
  let scratch: string;
  let content: LocalContentStore;
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'berth-load-'));
    content = await LocalContentStore.open(join(scratch, 'content'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const layer = buildTar([{ name: 'hello', data: 'hi' }]);
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } });
  const archive = buildTar([
    { name: `${sha(config)}.json`, data: config },
    { name: 'l/layer.tar', data: layer },
    { name: 'manifest.json', data: JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['t/app:1'], Layers: ['l/layer.tar'] }]) },
  ]);

  test('a gzip or zstd compressed archive loads, as docker load accepts it', async () => {
    for (const packed of [gzipSync(archive), execFileSync('zstd', ['-c', '-q'], { input: archive })]) {
      const [image] = await readImageArchive(Readable.from([packed]), content, platform);
      assert.equal(image?.config, `sha256:${sha(config)}`);
      assert.deepEqual(image?.names, ['t/app:1']);
    }
  });

  test('a compressed archive that unpacks past the limit is refused with a clear error', async () => {
    const bomb = gzipSync(buildTar([{ name: 'zeros', data: Buffer.alloc(4 * 1024 * 1024) }]));
    await assert.rejects(readImageArchive(Readable.from([bomb]), content, platform, { maxUnpackedBytes: 1024 * 1024 }), /invalid archive: gzip data unpacks to more than 1048576 bytes/);
  });

  test('".." in a name is refused', async () => {
    await assert.rejects(readImageArchive(Readable.from([buildTar([{ name: '../../escaped', data: 'x' }])]), content, platform), /points outside the target/);
    assert.deepEqual(readdirSync(scratch), ['content']);
  });

  test('a link in the archive to a host file is never read from the host', async () => {
    const hostile = buildTar([
      { name: 'cfg.json', type: 'symlink', linkname: '/etc/hostname' },
      { name: 'passwd', type: 'link', linkname: '/etc/passwd' },
      { name: 'manifest.json', data: JSON.stringify([{ Config: 'cfg.json', Layers: ['passwd'] }]) },
    ]);
    await assert.rejects(readImageArchive(Readable.from([hostile]), content, platform), /invalid archive: config cfg.json is missing from the archive/);
  });
});
