/**
 * Layer-apply conformance: every entry kind a layer can hold, the three compressions, and hostile
 * archives that must be refused without writing outside the target. Needs root (devices, owners,
 * trusted.* xattrs), as berthd does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { applyLayer } from './layer-apply.js';
import { buildTar } from './tar-writer.js';
import { ChildProcessCommandRunner } from '../lib/command-runner.js';

const runner = new ChildProcessCommandRunner();
const isRoot = process.getuid?.() === 0;
const MTIME = 1_600_000_000;
const CAPABILITY = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw+ep, binary

function getXattr(path: string, name: string): Buffer | undefined {
  const r = spawnSync('getfattr', ['--absolute-names', '--only-values', '-h', '-n', name, path]);
  return r.status === 0 ? r.stdout : undefined;
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const longName = `deep/${'d'.repeat(60)}/${'e'.repeat(60)}/file-with-a-long-name.txt`;

const richLayer = buildTar([
  { name: './', type: 'dir', mode: 0o755, mtime: MTIME },
  { name: 'etc/', type: 'dir', mode: 0o755, mtime: MTIME },
  { name: 'etc/hosts', data: '127.0.0.1 localhost\n', mode: 0o640, uid: 1000, gid: 1001, mtime: MTIME },
  { name: 'bin/', type: 'dir', mtime: MTIME },
  { name: 'bin/su', data: 'binary', mode: 0o4755, mtime: MTIME },
  { name: 'bin/su2', type: 'link', linkname: 'bin/su', mtime: MTIME },
  { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox', mtime: MTIME },
  { name: 'bin/ping', data: 'ping', mode: 0o755, xattrs: new Map([['security.capability', CAPABILITY], ['user.note', Buffer.from('hello')]]) },
  { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
  { name: 'shared/', type: 'dir', mode: 0o2775, gid: 50 },
  { name: 'tmp/', type: 'dir', mode: 0o1777 },
  { name: 'dev/', type: 'dir' },
  { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
  { name: 'dev/loop0', type: 'block', devmajor: 7, devminor: 0, mode: 0o660 },
  { name: 'run/', type: 'dir' },
  { name: 'run/fifo', type: 'fifo', mode: 0o600 },
  { name: '.wh.gone', data: '' },
  { name: 'opq/', type: 'dir' },
  { name: 'opq/.wh..wh..opq', data: '' },
  { name: 'opq/kept', data: 'kept' },
  { name: longName, data: 'long' },
  { name: '/abs/file', data: 'absolute names land inside' },
]);

describe('layer apply', { skip: isRoot ? false : 'needs root (device nodes, owners, trusted xattrs)' }, () => {
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'berth-apply-'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const freshTarget = (name: string) => {
    const dir = join(scratch, name);
    mkdirSync(dir);
    return dir;
  };

  test('every entry kind lands with its owner, mode, time, device numbers and xattrs', async () => {
    const target = freshTarget('rich');
    const result = await applyLayer(Readable.from([richLayer]), target, { runner });
    assert.equal(result.diffId, sha256(richLayer));
    assert.equal(result.compression, 'none');

    const hosts = statSync(join(target, 'etc/hosts'));
    assert.equal(readFileSync(join(target, 'etc/hosts'), 'utf8'), '127.0.0.1 localhost\n');
    assert.equal(hosts.mode & 0o7777, 0o640);
    assert.equal(hosts.uid, 1000);
    assert.equal(hosts.gid, 1001);
    assert.equal(Math.floor(hosts.mtimeMs / 1000), MTIME);

    assert.equal(statSync(join(target, 'bin/su')).mode & 0o7777, 0o4755, 'setuid kept');
    assert.equal(statSync(join(target, 'shared')).mode & 0o7777, 0o2775, 'setgid kept');
    assert.equal(statSync(join(target, 'shared')).gid, 50);
    assert.equal(statSync(join(target, 'tmp')).mode & 0o7777, 0o1777, 'sticky kept');

    assert.equal(statSync(join(target, 'bin/su2')).ino, statSync(join(target, 'bin/su')).ino, 'hard link shares the inode');
    assert.equal(readlinkSync(join(target, 'bin/sh')), '/bin/busybox', 'absolute symlink kept as written');
    assert.equal(readlinkSync(join(target, 'lib')), 'usr/lib', 'relative symlink kept as written');

    const devNull = lstatSync(join(target, 'dev/null'));
    assert.ok(devNull.isCharacterDevice());
    assert.equal(devNull.rdev, (1 << 8) | 3);
    assert.ok(lstatSync(join(target, 'dev/loop0')).isBlockDevice());
    assert.ok(lstatSync(join(target, 'run/fifo')).isFIFO());

    assert.deepEqual(getXattr(join(target, 'bin/ping'), 'security.capability'), CAPABILITY, 'binary xattr byte for byte');
    assert.deepEqual(getXattr(join(target, 'bin/ping'), 'user.note'), Buffer.from('hello'));

    const gone = lstatSync(join(target, 'gone'));
    assert.ok(gone.isCharacterDevice(), 'a file whiteout is a 0/0 character device');
    assert.equal(gone.rdev, 0);
    assert.equal(existsSync(join(target, '.wh.gone')), false);
    assert.deepEqual(getXattr(join(target, 'opq'), 'trusted.overlay.opaque'), Buffer.from('y'), 'opaque directory marked');
    assert.deepEqual(readdirSync(join(target, 'opq')), ['kept']);

    assert.equal(readFileSync(join(target, longName), 'utf8'), 'long');
    assert.equal(readFileSync(join(target, 'abs/file'), 'utf8'), 'absolute names land inside');
  });

  test('gzip and zstd layers give the same DiffID as the plain tar', async () => {
    const gz = await applyLayer(Readable.from([gzipSync(richLayer)]), freshTarget('gz'), { runner });
    assert.equal(gz.compression, 'gzip');
    assert.equal(gz.diffId, sha256(richLayer));
    const zst = execFileSync('zstd', ['-c', '-q'], { input: richLayer });
    const z = await applyLayer(Readable.from([zst]), freshTarget('zst'), { runner });
    assert.equal(z.compression, 'zstd');
    assert.equal(z.diffId, sha256(richLayer));
    assert.equal(readFileSync(join(scratch, 'zst', 'etc/hosts'), 'utf8'), '127.0.0.1 localhost\n');
  });

  describe('hostile archives are refused and nothing outside the target is written', () => {
    const outside = () => join(scratch, 'outside');
    before(() => mkdirSync(join(scratch, 'outside')));

    const refuse = async (name: string, layer: Buffer, pattern: RegExp) => {
      const target = freshTarget(name);
      await assert.rejects(applyLayer(Readable.from([layer]), target, { runner }), pattern);
      assert.deepEqual(readdirSync(outside()), [], 'nothing written outside');
      assert.equal(existsSync(join(scratch, 'escaped')), false);
    };

    test('../x', () => refuse('dotdot', buildTar([{ name: '../escaped', data: 'x' }]), /points outside the target/));
    test('a/../../x', () => refuse('dotdot2', buildTar([{ name: 'a/../../escaped', data: 'x' }]), /points outside the target/));
    test('a symlink to / followed by a file beneath it', () =>
      refuse('symlink-root', buildTar([{ name: 'evil', type: 'symlink', linkname: '/' }, { name: 'evil/tmp/escaped', data: 'x' }]), /symlink the archive created/));
    test('a symlink to a directory outside followed by a file beneath it', () =>
      refuse('symlink-out', buildTar([{ name: 'evil', type: 'symlink', linkname: outside() }, { name: 'evil/file', data: 'x' }]), /symlink the archive created/));
    test('a hard link to a path outside', () => refuse('hardlink-out', buildTar([{ name: 'h', type: 'link', linkname: '../../etc/passwd' }]), /points outside the target/));
    test('a hard link through a symlink the archive made', () =>
      refuse('hardlink-symlink', buildTar([{ name: 'evil', type: 'symlink', linkname: '/etc' }, { name: 'h', type: 'link', linkname: 'evil/passwd' }]), /symlink the archive created/));

    // Issue 17 item 3: the opaque marker used to be applied after extraction, by host path, through
    // whatever the archive had turned its parent into by then.
    for (const [name, dirs] of [['opaque-then-symlink', true], ['opaque-only-then-symlink', false]] as const) {
      test(`an opaque marker below a directory a later entry turns into a symlink marks nothing outside (${name})`, async () => {
        const victim = join(scratch, `victim-${name}`);
        mkdirSync(victim);
        const target = freshTarget(name);
        const layer = buildTar([
          ...(dirs ? [{ name: 'a/', type: 'dir' as const }, { name: 'a/b/', type: 'dir' as const }] : []),
          { name: 'a/b/.wh..wh..opq', data: '' },
          { name: 'a', type: 'symlink', linkname: victim },
        ]);
        await applyLayer(Readable.from([layer]), target, { runner }).catch(() => undefined);
        assert.deepEqual(readdirSync(victim), [], 'no directory created in the symlink\'s target');
        assert.equal(getXattr(victim, 'trusted.overlay.opaque'), undefined, 'no opaque mark on the symlink\'s target');
        assert.deepEqual(readdirSync(outside()), []);
      });
    }

    test('a whiteout with no name is refused', () => refuse('empty-whiteout', buildTar([{ name: 'x/', type: 'dir' }, { name: 'x/.wh.', data: '' }]), /names no file/));

    test('overlay\'s own xattrs are never taken from an archive entry', async () => {
      const target = freshTarget('overlay-xattrs');
      const xattrs = new Map([['trusted.overlay.opaque', Buffer.from('y')], ['trusted.overlay.redirect', Buffer.from('/etc')], ['user.kept', Buffer.from('1')]]);
      await applyLayer(Readable.from([buildTar([{ name: 'd/', type: 'dir', xattrs }])]), target, { runner });
      assert.equal(getXattr(join(target, 'd'), 'trusted.overlay.opaque'), undefined);
      assert.equal(getXattr(join(target, 'd'), 'trusted.overlay.redirect'), undefined);
      assert.deepEqual(getXattr(join(target, 'd'), 'user.kept'), Buffer.from('1'));
    });

    test('a directory replacing a symlink is a real directory, so files beneath it stay inside', async () => {
      const target = freshTarget('dir-over-link');
      await applyLayer(Readable.from([buildTar([{ name: 'd', type: 'symlink', linkname: outside() }, { name: 'd/', type: 'dir' }, { name: 'd/file', data: 'inside' }])]), target, { runner });
      assert.ok(lstatSync(join(target, 'd')).isDirectory());
      assert.equal(readFileSync(join(target, 'd/file'), 'utf8'), 'inside');
      assert.deepEqual(readdirSync(outside()), []);
    });

    test('a file replacing a symlink replaces the link, never writes through it', async () => {
      const target = freshTarget('replace');
      await applyLayer(Readable.from([buildTar([{ name: 'f', type: 'symlink', linkname: join(outside(), 'victim') }, { name: 'f', data: 'inside' }])]), target, { runner });
      assert.equal(readFileSync(join(target, 'f'), 'utf8'), 'inside');
      assert.ok(lstatSync(join(target, 'f')).isFile());
      assert.deepEqual(readdirSync(outside()), []);
    });
  });

  describe('decompression bombs stop at the unpack limit', () => {
    // 4 MiB of zeros compresses to a few kilobytes: a small bomb against a 1 MiB limit.
    const zeros = buildTar([{ name: 'zeros', data: Buffer.alloc(4 * 1024 * 1024) }]);
    for (const [kind, compress] of [['gzip', (b: Buffer) => gzipSync(b)], ['zstd', (b: Buffer) => execFileSync('zstd', ['-c', '-q', '-19'], { input: b })]] as const) {
      test(`a ${kind} layer that unpacks past the limit is refused with a clear error`, async () => {
        const bomb = compress(zeros);
        assert.ok(bomb.length < 64 * 1024, `the ${kind} bomb is small (${bomb.length} bytes)`);
        const target = freshTarget(`bomb-${kind}`);
        await assert.rejects(applyLayer(Readable.from([bomb]), target, { runner, maxUnpackedBytes: 1024 * 1024 }), new RegExp(`invalid layer: ${kind} data unpacks to more than 1048576 bytes`));
        const written = existsSync(join(target, 'zeros')) ? statSync(join(target, 'zeros')).size : 0;
        assert.ok(written <= 1024 * 1024, `at most the limit reached the disk (${written} bytes)`);
      });
    }
    test('a layer under the limit applies', async () => {
      const target = freshTarget('under-limit');
      await applyLayer(Readable.from([gzipSync(zeros)]), target, { runner, maxUnpackedBytes: 8 * 1024 * 1024 });
      assert.equal(statSync(join(target, 'zeros')).size, 4 * 1024 * 1024);
    });
  });

  describe('bad input gets a clear error', () => {
    test('garbage instead of tar', () =>
      assert.rejects(applyLayer(Readable.from([Buffer.from('this is not a tar archive at all, just some text that is long enough'.repeat(20))]), freshTarget('garbage'), { runner }), /invalid layer: .*not a tar archive/));
    test('truncated gzip', () => {
      const gz = gzipSync(richLayer);
      return assert.rejects(applyLayer(Readable.from([gz.subarray(0, gz.length - 200)]), freshTarget('trunc-gz'), { runner }), /invalid layer: .*(gzip|truncated|unexpected end)/);
    });
    test('truncated tar', () =>
      assert.rejects(applyLayer(Readable.from([buildTar([{ name: 'big', data: 'x'.repeat(5000) }]).subarray(0, 2048)]), freshTarget('trunc-tar'), { runner }), /invalid layer: .*truncated/));
    test('empty input', () => assert.rejects(applyLayer(Readable.from([Buffer.alloc(0)]), freshTarget('empty'), { runner }), /invalid layer/));
  });
});
