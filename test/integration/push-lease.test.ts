/**
 * A push in flight holds what it reads (a lease): an `rmi` of the image while the push waits on the
 * registry answers at once, and the push still sends every blob whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { startBerthd } from '../helpers/berthd.js';
import { docker } from '../helpers/cli.js';
import { buildTar } from '../../src/archive/tar-writer.js';

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const isRoot = process.getuid?.() === 0;

/** A registry that keeps what is pushed and holds the first blob HEAD until `release()`. */
function stallingRegistry() {
  const stored = new Map<string, Buffer>();
  const uploads = new Map<string, Buffer[]>();
  let held: ServerResponse | undefined;
  let onHeld: () => void = () => undefined;
  const firstHead = new Promise<void>((resolve) => (onHeld = resolve));
  const body = (req: IncomingMessage) => new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });
  let nextUpload = 0;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://registry');
    if (url.pathname === '/v2/') return void res.writeHead(200).end('{}');
    const blob = /^\/v2\/push\/app\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname)?.[1];
    if (blob && req.method === 'HEAD') {
      if (!held && !stored.has(blob)) {
        held = res;
        onHeld();
        return;
      }
      return void res.writeHead(stored.has(blob) ? 200 : 404).end();
    }
    if (url.pathname === '/v2/push/app/blobs/uploads/' && req.method === 'POST') {
      const id = String(nextUpload++);
      uploads.set(id, []);
      return void res.writeHead(202, { Location: `/v2/push/app/blobs/uploads/${id}`, 'Content-Length': '0' }).end();
    }
    const upload = /^\/v2\/push\/app\/blobs\/uploads\/(\d+)$/.exec(url.pathname)?.[1];
    if (upload !== undefined && req.method === 'PATCH') {
      uploads.get(upload)!.push(await body(req));
      return void res.writeHead(202, { Location: `/v2/push/app/blobs/uploads/${upload}`, 'Content-Length': '0' }).end();
    }
    if (upload !== undefined && req.method === 'PUT') {
      const data = Buffer.concat([...uploads.get(upload)!, await body(req)]);
      const digest = url.searchParams.get('digest') ?? '';
      if (sha256(data) !== digest) return void res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID","message":"digest mismatch"}]}');
      stored.set(digest, data);
      return void res.writeHead(201, { Location: `/v2/push/app/blobs/${digest}`, 'Content-Length': '0' }).end();
    }
    if (url.pathname.startsWith('/v2/push/app/manifests/') && req.method === 'PUT') {
      const manifest = await body(req);
      stored.set(url.pathname, manifest);
      return void res.writeHead(201, { 'Docker-Content-Digest': sha256(manifest), 'Content-Length': '0' }).end();
    }
    res.writeHead(404).end();
  });
  const release = () => {
    if (held && !held.headersSent) held.writeHead(404).end();
  };
  return { server, stored, firstHead, release };
}

test('rmi while a push waits on the registry: the rmi answers, the push sends every blob whole', { skip: isRoot ? false : 'needs root', timeout: 120_000 }, async (t) => {
  const registry = stallingRegistry();
  await new Promise<void>((resolve) => registry.server.listen(0, '127.0.0.1', resolve));
  const daemon = await startBerthd();
  t.after(async () => {
    registry.release();
    registry.server.closeAllConnections();
    registry.server.close();
    await daemon.cleanup();
  });

  const layer = buildTar([{ name: 'pushed.txt', data: 'pushed while removed\n'.repeat(1000) }]);
  const tarPath = join(daemon.root, 'layer.tar');
  await writeFile(tarPath, layer);
  const image = `127.0.0.1:${(registry.server.address() as AddressInfo).port}/push/app`;
  const imported = await docker(daemon.host, ['import', tarPath, image]);
  assert.equal(imported.code, 0, imported.stderr);

  const push = docker(daemon.host, ['push', image]);
  await registry.firstHead;
  const rmi = await docker(daemon.host, ['rmi', image]);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /Untagged: /);
  registry.release();

  const pushed = await push;
  assert.equal(pushed.code, 0, pushed.stderr + pushed.stdout);
  const manifest = JSON.parse(registry.stored.get('/v2/push/app/manifests/latest')?.toString() ?? '{}') as { config?: { digest: string }; layers?: { digest: string }[] };
  assert.ok(manifest.config && registry.stored.has(manifest.config.digest), 'the config blob arrived');
  assert.equal(manifest.layers?.length, 1);
  assert.ok(registry.stored.has(manifest.layers![0]!.digest), 'the layer blob arrived whole (its digest checked)');

  // Once the push is done nothing holds the removed image's blobs: the next prune finds none left.
  const leftovers = await docker(daemon.host, ['images', '-a', '-q']);
  assert.equal(leftovers.stdout.trim(), '');
});

test('a layer blob lost from disk fails its push with the error, and berthd keeps serving', { skip: isRoot ? false : 'needs root', timeout: 120_000 }, async (t) => {
  const registry = stallingRegistry();
  await new Promise<void>((resolve) => registry.server.listen(0, '127.0.0.1', resolve));
  const daemon = await startBerthd();
  t.after(async () => {
    registry.release();
    registry.server.closeAllConnections();
    registry.server.close();
    await daemon.cleanup();
  });

  const layer = buildTar([{ name: 'lost.txt', data: 'this blob goes missing\n' }]);
  const tarPath = join(daemon.root, 'layer.tar');
  await writeFile(tarPath, layer);
  const image = `127.0.0.1:${(registry.server.address() as AddressInfo).port}/push/app`;
  assert.equal((await docker(daemon.host, ['import', tarPath, image])).code, 0);

  const push = docker(daemon.host, ['push', image]);
  await registry.firstHead;
  // Damage behind berthd's back: every blob but the image config goes.
  const inspect = await docker(daemon.host, ['image', 'inspect', '--format', '{{.Id}}', image]);
  const configBlob = inspect.stdout.trim().replace('sha256:', '');
  const blobDir = join(daemon.dataRoot, 'content', 'blobs', 'sha256');
  for (const name of await readdir(blobDir)) if (name !== configBlob) await rm(join(blobDir, name));
  registry.release();

  const pushed = await push;
  assert.notEqual(pushed.code, 0);
  assert.match(pushed.stderr, /no such file or directory/);
  const version = await docker(daemon.host, ['version', '--format', '{{.Server.Os}}']);
  assert.equal(version.stdout.trim(), 'linux', `berthd still answers: ${version.stderr}`);
});
