/**
 * A pull in flight holds what it uses (a lease), without holding the image lock: while its last
 * layer is still downloading, `rmi` of the image whose layer the pull reuses answers at once and
 * must not take that layer away; the pull then completes and its image runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { startBerthd } from '../helpers/berthd.js';
import { docker } from '../helpers/cli.js';
import { busyboxLayer } from '../chaos/busybox-layer.js';
import { buildTar } from '../../src/archive/tar-writer.js';

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const isRoot = process.getuid?.() === 0;

test('rmi while a pull that reuses its layer is downloading: the rmi answers, the layer stays, the pull completes', { skip: isRoot ? false : 'needs root', timeout: 180_000 }, async (t) => {
  const base = busyboxLayer();
  const top = buildTar([{ name: 'top.txt', data: 'from the stalled layer' }]);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [sha256(base), sha256(top)] } }));
  const layerType = 'application/vnd.oci.image.layer.v1.tar';
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [base, top].map((b) => ({ mediaType: layerType, digest: sha256(b), size: b.length })),
  }));
  const blobs = new Map([[sha256(config), config], [sha256(base), base], [sha256(top), top]]);
  let stalled: ServerResponse | undefined;
  let onStall: () => void = () => undefined;
  const stall = new Promise<void>((resolve) => (onStall = resolve));
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/') return void res.writeHead(200).end('{}');
    if (url.startsWith('/v2/lease/app/manifests/')) {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Docker-Content-Digest': sha256(manifest) });
      return void (req.method === 'HEAD' ? res.end() : res.end(manifest));
    }
    const digest = /^\/v2\/lease\/app\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url)?.[1];
    const blob = digest ? blobs.get(digest) : undefined;
    if (!blob) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Length': String(blob.length), 'Docker-Content-Digest': digest! });
    if (digest === sha256(top)) {
      // Half the layer now, the rest when the test says so.
      res.write(blob.subarray(0, 512));
      stalled = res;
      onStall();
      return;
    }
    res.end(blob);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const release = () => stalled?.end(top.subarray(512));
  const daemon = await startBerthd();
  t.after(async () => {
    release();
    server.closeAllConnections();
    server.close();
    await daemon.cleanup();
  });

  const tarPath = join(daemon.root, 'busybox.tar');
  await writeFile(tarPath, base);
  assert.equal((await docker(daemon.host, ['import', '-c', 'CMD ["sh"]', tarPath, 'busybox'])).code, 0);
  const image = `127.0.0.1:${(server.address() as AddressInfo).port}/lease/app`;
  const pull = docker(daemon.host, ['pull', image]);
  await stall;

  // The pull reuses busybox's layer ("Already exists"); removing busybox must leave it.
  const rmi = await docker(daemon.host, ['rmi', 'busybox']);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /Untagged: busybox:latest/);
  assert.doesNotMatch(rmi.stdout, new RegExp(`Deleted: ${sha256(base)}`), 'the layer the pull holds is not deleted');

  release();
  const pulled = await pull;
  assert.equal(pulled.code, 0, pulled.stderr + pulled.stdout);
  const run = await docker(daemon.host, ['run', '--rm', image, 'sh', '-c', 'cat /top.txt; test -x /bin/busybox && echo base']);
  assert.equal(run.stdout, 'from the stalled layerbase\n', run.stderr);
});
