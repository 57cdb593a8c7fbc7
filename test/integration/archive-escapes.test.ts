/**
 * Hostile archives through a real berthd on every unpack path but docker cp: import, load, the
 * build context, ADD of a local archive and ADD <url>. A temp directory stands in for the host's
 * files; the archives point at it, and it must come out untouched.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { buildTar, type EntrySpec } from '../../src/archive/tar-writer.js';

const OLD = 1_000_000_000;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('hostile archives never write outside their target', () => {
  let daemon: TestDaemon;
  let victim: string;
  let count = 0;
  before(async () => {
    // A small unpack limit, so a decompression bomb of a few kilobytes shows it on every path.
    daemon = await startBerthd({ extraArgs: ['--max-unpack-size', '1m'] });
  });
  after(async () => {
    await daemon?.cleanup();
  });

  /** A fresh stand-in for a host directory: one file, one subdirectory, old times, no xattrs. */
  const freshVictim = () => {
    victim = join(daemon.root, `victim-${++count}`);
    mkdirSync(join(victim, 'sub'), { recursive: true });
    writeFileSync(join(victim, 'file'), 'host data\n');
    for (const p of [join(victim, 'sub'), join(victim, 'file'), victim]) utimesSync(p, OLD, OLD);
    return victim;
  };
  const assertVictimUntouched = () => {
    assert.deepEqual(readdirSync(victim).sort(), ['file', 'sub'], 'nothing created in the host directory');
    assert.deepEqual(readdirSync(join(victim, 'sub')), []);
    assert.equal(readFileSync(join(victim, 'file'), 'utf8'), 'host data\n');
    for (const p of [victim, join(victim, 'sub'), join(victim, 'file')]) {
      const s = statSync(p);
      assert.equal(Math.floor(s.mtimeMs / 1000), OLD, `${p} keeps its time`);
      assert.equal(s.mode & 0o7000, 0, `${p} gets no setuid/setgid`);
    }
    const xattrs = spawnSync('getfattr', ['--absolute-names', '-d', '-m', '-', victim, join(victim, 'sub')], { encoding: 'utf8' });
    assert.doesNotMatch(xattrs.stdout, /overlay/, 'no overlay xattr on the host directory');
  };

  /** Layers that try each escape; v is the victim's absolute path. */
  const hostileLayers: Record<string, (v: string) => EntrySpec[]> = {
    'an opaque marker, then its parent turned into a symlink out': (v) => [{ name: 'a/sub/.wh..wh..opq', data: '' }, { name: 'a', type: 'symlink', linkname: v }],
    'a symlink out, then a file written through it': (v) => [{ name: 'evil', type: 'symlink', linkname: v }, { name: 'evil/planted', data: 'x', mode: 0o4755 }],
    'a hard link to a symlink out, then written through': (v) => [{ name: 's', type: 'symlink', linkname: v }, { name: 'h', type: 'link', linkname: 's' }, { name: 'h/planted', data: 'x' }],
    'a whiteout naming a path outside the layer': () => [{ name: 'x/../../.wh.file', data: '' }],
    '".." in a name': () => [{ name: '../../planted', data: 'x' }],
  };

  for (const [what, layerOf] of Object.entries(hostileLayers)) {
    test(`import: ${what}`, async () => {
      freshVictim();
      const res = await daemon.request('POST', '/images/create?fromSrc=-&repo=hostile&tag=import', { body: buildTar(layerOf(victim)), headers: { 'Content-Type': 'application/x-tar' } });
      assert.ok(res.status === 400 || /"errorDetail"/.test(res.body), `refused (${res.status} ${res.body})`);
      assertVictimUntouched();
    });

    test(`load: ${what}`, async () => {
      freshVictim();
      const layer = buildTar(layerOf(victim));
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } });
      const archive = buildTar([
        { name: `${sha(config)}.json`, data: config },
        { name: 'l/layer.tar', data: layer },
        { name: 'manifest.json', data: JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['hostile:load'], Layers: ['l/layer.tar'] }]) },
      ]);
      const res = await daemon.request('POST', '/images/load?quiet=1', { body: archive, headers: { 'Content-Type': 'application/x-tar' } });
      assert.ok(res.status === 400 || /"errorDetail"|"error"/.test(res.body), `refused (${res.status} ${res.body})`);
      assertVictimUntouched();
    });
  }

  /** POSTs a build; returns the whole response text (errors arrive in the stream). */
  const build = async (context: Buffer, tag: string) => {
    const res = await daemon.request('POST', `/build?t=${tag}&rm=1&forcerm=1`, { body: context, headers: { 'Content-Type': 'application/x-tar' } });
    return `${res.status} ${res.body}`;
  };

  test('build context: a symlink out, then written through, is refused', async () => {
    freshVictim();
    const out = await build(buildTar([{ name: 'Dockerfile', data: 'FROM scratch\nCOPY f /f\n' }, { name: 'f', data: 'f' }, { name: 'evil', type: 'symlink', linkname: victim }, { name: 'evil/planted', data: 'x' }]), 'hostile:context');
    assert.match(out, /symlink the archive created/);
    assertVictimUntouched();
  });

  test('ADD of a local archive: a directory swapped for a symlink out, and writes through it', async () => {
    freshVictim();
    const inner = buildTar([
      { name: 'd/', type: 'dir', mode: 0o4777, mtime: 1_500_000_000 },
      { name: 'd/sub/', type: 'dir', mode: 0o4777, mtime: 1_500_000_000 },
      { name: 'd', type: 'symlink', linkname: victim },
      { name: 'link', type: 'symlink', linkname: victim },
    ]);
    const out = await build(buildTar([{ name: 'Dockerfile', data: 'FROM scratch\nADD inner.tar /\n' }, { name: 'inner.tar', data: inner }]), 'hostile:add');
    assert.match(out, /Successfully built/, 'a layer may hold links out; only the host must not see them');
    assertVictimUntouched();

    const writeThrough = buildTar([{ name: 'link', type: 'symlink', linkname: victim }, { name: 'link/planted', data: 'x' }]);
    const refused = await build(buildTar([{ name: 'Dockerfile', data: 'FROM scratch\nADD inner.tar /\n' }, { name: 'inner.tar', data: writeThrough }]), 'hostile:add2');
    assert.match(refused, /symlink the archive created/);
    assertVictimUntouched();
  });

  describe('decompression bombs stop at --max-unpack-size', () => {
    const zeros = buildTar([{ name: 'zeros', data: Buffer.alloc(4 * 1024 * 1024) }]);
    const limitError = /gzip data unpacks to more than 1048576 bytes/;

    test('import', async () => {
      const res = await daemon.request('POST', '/images/create?fromSrc=-&repo=bomb&tag=import', { body: gzipSync(zeros), headers: { 'Content-Type': 'application/x-tar' } });
      assert.match(`${res.status} ${res.body}`, limitError);
    });

    test('load, of a compressed archive and of a compressed layer inside a plain one', async () => {
      const outer = await daemon.request('POST', '/images/load?quiet=1', { body: gzipSync(zeros), headers: { 'Content-Type': 'application/x-tar' } });
      assert.match(`${outer.status} ${outer.body}`, limitError);
      const layer = gzipSync(zeros);
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(zeros)}`] } });
      const archive = buildTar([
        { name: `${sha(config)}.json`, data: config },
        { name: 'l/layer.tar.gz', data: layer },
        { name: 'manifest.json', data: JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['bomb:load'], Layers: ['l/layer.tar.gz'] }]) },
      ]);
      const inner = await daemon.request('POST', '/images/load?quiet=1', { body: archive, headers: { 'Content-Type': 'application/x-tar' } });
      assert.match(`${inner.status} ${inner.body}`, limitError);
    });

    test('build context and ADD of a local archive', async () => {
      const context = buildTar([{ name: 'Dockerfile', data: 'FROM scratch\nCOPY Dockerfile /\n' }, { name: 'zeros', data: Buffer.alloc(4 * 1024 * 1024) }]);
      assert.match(await build(gzipSync(context), 'bomb:context'), limitError);
      const add = buildTar([{ name: 'Dockerfile', data: 'FROM scratch\nADD bomb.tar.gz /\n' }, { name: 'bomb.tar.gz', data: gzipSync(zeros) }]);
      assert.match(await build(add, 'bomb:add'), limitError);
      assert.equal((await daemon.request('GET', '/images/bomb:add/json')).status, 404, 'no image');
    });
  });

  describe('ADD <url>', () => {
    let server: Server;
    let base: string;
    let served = 0;
    before(async () => {
      server = createServer((req, res) => {
        served++;
        if (req.url === '/loop') {
          res.writeHead(302, { location: '/loop' });
          return res.end();
        }
        res.end('downloaded\n');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    test('a redirect loop ends the build after 10 redirects with a clear error', async () => {
      served = 0;
      const out = await build(buildTar([{ name: 'Dockerfile', data: `FROM scratch\nADD ${base}/loop /x\n` }]), 'hostile:url');
      assert.match(out, /failed to GET http:\/\/127\.0\.0\.1:\d+\/loop: stopped after 10 redirects/);
      assert.equal(served, 11);
      assert.equal((await daemon.request('GET', '/images/hostile:url/json')).status, 404, 'no image');
    });

    test('a download lands in the image', async () => {
      const out = await build(buildTar([{ name: 'Dockerfile', data: `FROM scratch\nADD ${base}/file /x\n` }]), 'ok:url');
      assert.match(out, /Successfully built/);
    });
  });
});
