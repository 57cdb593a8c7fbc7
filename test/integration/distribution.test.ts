/**
 * berth pull and push against berth-registry and against a misbehaving registry written here:
 * manifest lists and --platform, zstd and uncompressed layers, skopeo interop, wrong digests,
 * dropped connections and truncated gzip.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { berth } from '../helpers/cli.js';
import { leftoverTempFiles, makeBusyboxRootfs, toolAvailable } from '../helpers/images.js';
import { rawRequest, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writeOciLayout } from '../helpers/oci-layout.js';
import { buildTar } from '../../src/archive/tar-writer.js';

const run = promisify(execFile);
const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

interface Blob {
  bytes: Buffer;
  digest: string;
}
const blob = (bytes: Buffer): Blob => ({ bytes, digest: sha256(bytes) });

/** An image as registry content: layer blobs (with their media types), config and manifest. */
function makeImage(arch: string, layers: { tar: Buffer; compressed: Buffer; mediaType: string }[], cmd: string[] = ['/bin/sh']) {
  const config = blob(Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: cmd }, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.tar)) } })));
  const layerBlobs = layers.map((l) => ({ ...blob(l.compressed), mediaType: l.mediaType }));
  const manifest = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.bytes.length },
    layers: layerBlobs.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.bytes.length })),
  })));
  return { config, layers: layerBlobs, manifest };
}

async function pushImage(registry: TestRegistry, repo: string, image: ReturnType<typeof makeImage>, tag?: string): Promise<void> {
  for (const b of [image.config, ...image.layers]) {
    const res = await rawRequest(registry.port, 'POST', `/v2/${repo}/blobs/uploads/?digest=${b.digest}`, { body: b.bytes });
    assert.equal(res.status, 201, res.text);
  }
  const res = await rawRequest(registry.port, 'PUT', `/v2/${repo}/manifests/${tag ?? image.manifest.digest}`, { body: image.manifest.bytes, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(res.status, 201, res.text);
}

describe('berth pull and push', () => {
  let daemon: TestDaemon;
  let registry: TestRegistry;
  let rootfs: string;
  let busyboxTar: Buffer;
  before(async () => {
    daemon = await startBerthd();
    registry = await startRegistry();
    rootfs = makeBusyboxRootfs(join(daemon.root, 'busybox.tar'));
    busyboxTar = readFileSync(rootfs);
  });
  after(async () => {
    await registry?.cleanup();
    await daemon?.cleanup();
  });
  const cli = (...args: string[]) => berth(daemon.host, args, { env: { DOCKER_CONFIG: join(daemon.root, 'docker-config') } });
  const inspect = async (ref: string) => JSON.parse((await cli('image', 'inspect', ref)).stdout)[0] as { Id: string; Architecture: string; RootFS: { Layers: string[] }; RepoDigests: string[] };

  test('berth push, rmi, pull: the same image ID comes back, with its RepoDigest', async () => {
    const ref = `${registry.host}/berth/busybox:1`;
    const id = (await cli('import', rootfs, ref)).stdout.trim();
    const push = await cli('push', ref);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /: Pushed\n/);
    const digest = /1: digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)![1]!;
    assert.match((await cli('push', ref)).stdout, /Layer already exists/, 'a second push compresses nothing and uploads nothing');
    assert.equal((await cli('rmi', ref)).code, 0);
    const pull = await cli('pull', ref);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, new RegExp(`Digest: ${digest}\\n`));
    const image = await inspect(ref);
    assert.equal(image.Id, id);
    assert.deepEqual(image.RepoDigests, [`${registry.host}/berth/busybox@${digest}`]);
  });

  test('a manifest list pulls the host platform by default and arm64 with --platform', async () => {
    const amd64 = makeImage('amd64', [{ tar: busyboxTar, compressed: gzipSync(busyboxTar), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }]);
    const armTar = buildTar([{ name: 'arch', data: 'arm64\n' }]);
    const arm64 = makeImage('arm64', [{ tar: armTar, compressed: gzipSync(armTar), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }]);
    await pushImage(registry, 'multi/app', amd64);
    await pushImage(registry, 'multi/app', arm64);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: amd64.manifest.digest, size: amd64.manifest.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: OCI_MANIFEST, digest: arm64.manifest.digest, size: arm64.manifest.bytes.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
    });
    assert.equal((await rawRequest(registry.port, 'PUT', '/v2/multi/app/manifests/1', { body: index, headers: { 'Content-Type': OCI_INDEX } })).status, 201);
    const host = await cli('pull', `${registry.host}/multi/app:1`);
    assert.equal(host.code, 0, host.stderr);
    assert.equal((await inspect(`${registry.host}/multi/app:1`)).Architecture, 'amd64');
    await cli('rmi', `${registry.host}/multi/app:1`);
    const arm = await cli('pull', '--platform', 'linux/arm64', `${registry.host}/multi/app:1`);
    assert.equal(arm.code, 0, arm.stderr);
    const image = await inspect(`${registry.host}/multi/app:1`);
    assert.equal(image.Architecture, 'arm64');
    assert.match(image.RepoDigests[0]!, new RegExp(`@${sha256(index)}$`), 'the RepoDigest is the index digest the tag names');
    const missing = await cli('pull', '--platform', 'linux/s390x', `${registry.host}/multi/app:1`);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
  });

  test('zstd and uncompressed layers pull', async () => {
    const zstdTar = buildTar([{ name: 'zstd-file', data: 'from a zstd layer\n' }]);
    const plainTar = buildTar([{ name: 'plain-file', data: 'from an uncompressed layer\n' }]);
    const image = makeImage('amd64', [
      { tar: zstdTar, compressed: execFileSync('zstd', ['-c', '-q'], { input: zstdTar }), mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' },
      { tar: plainTar, compressed: plainTar, mediaType: 'application/vnd.oci.image.layer.v1.tar' },
    ]);
    await pushImage(registry, 'formats/app', image, 'v1');
    const pull = await cli('pull', `${registry.host}/formats/app:v1`);
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual((await inspect(`${registry.host}/formats/app:v1`)).RootFS.Layers, [sha256(zstdTar), sha256(plainTar)]);
  });

  test('schema 1 manifests are refused with Docker\'s message', async () => {
    const server = await fakeRegistry((req, res) => {
      if (req.url === '/v2/') return res.end('{}');
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
      res.end(JSON.stringify({ schemaVersion: 1, name: 'old/app', tag: 'latest', fsLayers: [] }));
    });
    try {
      const r = await cli('pull', `127.0.0.1:${port(server)}/old/app`);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /support for Docker Image Format v1 and Docker Image manifest version 2, schema 1 has been removed/);
    } finally {
      server.close();
    }
  });

  describe('skopeo interop', { skip: toolAvailable('skopeo') ? false : 'skopeo is missing' }, () => {
    test('skopeo reads what berth pushed, and berth pulls the OCI manifest and index skopeo pushed', async () => {
      const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/berth/busybox:1`]);
      assert.equal((JSON.parse(stdout) as { Layers: string[] }).Layers.length, 1);
      const layout = join(daemon.root, 'skopeo-layout');
      writeOciLayout(layout, rootfs, 'v1', ['/bin/echo', 'from skopeo']);
      await run('skopeo', ['--insecure-policy', 'copy', '-q', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${registry.host}/skopeo/app:v1`]);
      await run('skopeo', ['--insecure-policy', 'copy', '-q', '--all', '--format', 'oci', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${registry.host}/multi/app:1`, `docker://${registry.host}/skopeo/multi:1`]);
      assert.equal((await cli('pull', `${registry.host}/skopeo/app:v1`)).code, 0);
      assert.equal((await cli('pull', `${registry.host}/skopeo/multi:1`)).code, 0);
      const cmd = await cli('image', 'inspect', '--format', '{{json .Config.Cmd}}', `${registry.host}/skopeo/app:v1`);
      assert.equal(cmd.stdout.trim(), '["/bin/echo","from skopeo"]');
    });
  });

  describe('a misbehaving registry: the pull resumes or fails clearly, and nothing is left', () => {
    const layerTar = buildTar([{ name: 'big', data: Buffer.alloc(600_000, 'x') }, { name: 'small', data: 'small' }]);
    const gz = gzipSync(layerTar, { level: 0 });

    const serveImage = (layerBytes: Buffer, behaviour: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, layer: Buffer) => void) => {
      const image = makeImage('amd64', [{ tar: layerTar, compressed: layerBytes, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }]);
      return fakeRegistry((req, res) => {
        if (req.url === '/v2/') return res.end('{}');
        if (req.url?.includes('/manifests/')) {
          res.writeHead(200, { 'Content-Type': OCI_MANIFEST, 'Docker-Content-Digest': image.manifest.digest });
          return res.end(image.manifest.bytes);
        }
        if (req.url?.endsWith(image.config.digest)) return res.end(image.config.bytes);
        behaviour(req, res, layerBytes);
      });
    };
    const layersSize = async () => JSON.parse((await daemon.request('GET', '/system/df')).body).LayersSize as number;

    test('a blob with the wrong digest fails the pull and leaves no image or layer', async () => {
      const before = { images: (await cli('images', '-q')).stdout, layers: await layersSize() };
      const server = await serveImage(gz, (_req, res) => res.end(gzipSync(buildTar([{ name: 'evil', data: 'not what the manifest said' }]))));
      try {
        const r = await cli('pull', `127.0.0.1:${port(server)}/bad/digest`);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /verification failed|digest mismatch/);
        assert.equal((await cli('images', '-q')).stdout, before.images);
        assert.equal(await layersSize(), before.layers);
        assert.deepEqual(leftoverTempFiles(daemon.dataRoot), []);
      } finally {
        server.close();
      }
    });

    test('a connection cut halfway is resumed with Range', async () => {
      let requests = 0;
      const server = await serveImage(gz, (req, res, layer) => {
        requests++;
        const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
        if (!range) {
          res.writeHead(200, { 'Content-Length': layer.length });
          res.write(layer.subarray(0, Math.floor(layer.length / 2)));
          setTimeout(() => res.destroy(), 20);
          return;
        }
        const start = Number(range[1]);
        res.writeHead(206, { 'Content-Range': `bytes ${start}-${layer.length - 1}/${layer.length}`, 'Content-Length': layer.length - start });
        res.end(layer.subarray(start));
      });
      try {
        const r = await cli('pull', `127.0.0.1:${port(server)}/flaky/app`);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(requests >= 2, 'resumed with a second request');
        assert.deepEqual((await inspect(`127.0.0.1:${port(server)}/flaky/app`)).RootFS.Layers, [sha256(layerTar)]);
      } finally {
        server.close();
      }
    });

    test('a truncated gzip layer fails the pull clearly', async () => {
      const before = { images: (await cli('images', '-q')).stdout, layers: await layersSize() };
      const truncated = gz.subarray(0, gz.length - 100);
      const server = await serveImage(truncated, (_req, res, layer) => res.end(layer));
      try {
        const r = await cli('pull', `127.0.0.1:${port(server)}/bad/gzip`);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /gzip|truncated|unexpected end/);
        assert.equal((await cli('images', '-q')).stdout, before.images);
        assert.equal(await layersSize(), before.layers);
        assert.deepEqual(leftoverTempFiles(daemon.dataRoot), []);
      } finally {
        server.close();
      }
    });
  });
});

function fakeRegistry(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
      handler(req, res);
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function port(server: Server): number {
  return (server.address() as { port: number }).port;
}
