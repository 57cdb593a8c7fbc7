/**
 * `--max-unpack-size` also caps the DiffID check a pull makes of a layer whose contents are
 * already unpacked (say, from an import) but whose compressed blob is not kept: a registry's
 * small gzip bomb must not be inflated without limit just to be hashed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { startBerthd } from '../helpers/berthd.js';
import { docker } from '../helpers/cli.js';
import { buildTar } from '../../src/archive/tar-writer.js';

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const isRoot = process.getuid?.() === 0;

test('pull: the DiffID check of an already-unpacked layer stops at max-unpack-size', { skip: isRoot ? false : 'needs root', timeout: 120_000 }, async (t) => {
  // 4 MiB of zeros: gzip makes it a few KiB, far past the daemon's 1 MiB limit once unpacked.
  const layer = buildTar([{ name: 'zeros.bin', data: Buffer.alloc(4 * 1024 * 1024) }]);
  const compressed = gzipSync(layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(compressed), size: compressed.length }],
  }));
  const blobs = new Map([[sha256(config), config], [sha256(compressed), compressed]]);
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/') return void res.writeHead(200).end('{}');
    if (url.startsWith('/v2/bomb/app/manifests/')) {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Docker-Content-Digest': sha256(manifest) });
      return void (req.method === 'HEAD' ? res.end() : res.end(manifest));
    }
    const digest = /^\/v2\/bomb\/app\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url)?.[1];
    const blob = digest ? blobs.get(digest) : undefined;
    if (!blob) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Length': String(blob.length), 'Docker-Content-Digest': digest! });
    res.end(blob);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const daemon = await startBerthd({ extraArgs: ['--max-unpack-size', '1m'] });
  t.after(async () => {
    server.closeAllConnections();
    server.close();
    await daemon.cleanup();
  });

  // The same layer, uncompressed, arrives first by import: its chain exists, its gzip blob does not.
  const tarPath = join(daemon.root, 'zeros.tar');
  await writeFile(tarPath, layer);
  const imported = await docker(daemon.host, ['import', tarPath, 'zeros']);
  assert.equal(imported.code, 0, imported.stderr);

  const image = `127.0.0.1:${(server.address() as AddressInfo).port}/bomb/app`;
  const pull = await docker(daemon.host, ['pull', image]);
  assert.notEqual(pull.code, 0, `the pull must fail: ${pull.stdout}`);
  assert.match(pull.stderr, /unpacks to more than 1048576 bytes/);
  const listed = await docker(daemon.host, ['images', '--format', '{{.Repository}}']);
  assert.doesNotMatch(listed.stdout, /bomb\/app/, 'no image is recorded');
});
