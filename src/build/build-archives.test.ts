/**
 * The archive CVE classes on the builder's two unpack paths: the build context the client sends,
 * and ADD of a local tar into an image's root. Each hostile archive is built here; a temp
 * directory stands in for the host ("outside") and must come out untouched. Needs root (owners).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { buildTar, type EntrySpec } from '../archive/tar-writer.js';
import { RootedFilesystem } from '../archive/rooted-path.js';
import { unpackBuildContext } from './build-context.js';
import { extractLocalArchive, isLocalArchive } from './local-archive.js';

const isRoot = process.getuid?.() === 0;
const OLD = 1_000_000_000;
const LIMIT = 1024 * 1024;

describe('builder archives stay inside their target', { skip: isRoot ? false : 'needs root (owners, setuid)' }, () => {
  let scratch: string;
  let outside: string;
  let count = 0;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'berth-build-archives-'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** A fresh "host" directory with one file and one subdirectory, all with an old mtime. */
  const freshOutside = () => {
    outside = join(scratch, `outside-${++count}`);
    mkdirSync(join(outside, 'sub'), { recursive: true });
    writeFileSync(join(outside, 'victim'), 'host data\n', { mode: 0o644 });
    for (const p of [join(outside, 'sub'), join(outside, 'victim'), outside]) utimesSync(p, OLD, OLD);
    return outside;
  };
  const assertOutsideUntouched = () => {
    assert.deepEqual(readdirSync(outside).sort(), ['sub', 'victim'], 'nothing created outside');
    assert.deepEqual(readdirSync(join(outside, 'sub')), []);
    assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'host data\n', 'host file unchanged');
    for (const p of [outside, join(outside, 'sub'), join(outside, 'victim')]) {
      const s = statSync(p);
      assert.equal(Math.floor(s.mtimeMs / 1000), OLD, `mtime of ${p} unchanged`);
      assert.equal(s.mode & 0o7000, 0, `no setuid/setgid on ${p}`);
    }
  };

  // Each path: a function that unpacks `tar` into a fresh target and returns the target's root.
  const paths = {
    'build context': async (tar: Buffer, maxUnpackedBytes = LIMIT) => {
      const dir = join(scratch, `ctx-${++count}`);
      mkdirSync(dir);
      await unpackBuildContext(Readable.from([tar]), dir, maxUnpackedBytes);
      return dir;
    },
    'ADD of a local archive': async (tar: Buffer, maxUnpackedBytes = LIMIT) => {
      // An image root that already holds a link out, as a hostile base image would.
      const root = join(scratch, `rootfs-${++count}`);
      mkdirSync(join(root, 'dest'), { recursive: true });
      symlinkSync(outside, join(root, 'data'));
      const archive = join(scratch, `add-${count}.tar`);
      writeFileSync(archive, tar);
      await extractLocalArchive(archive, new RootedFilesystem(root), '/dest', { owner: undefined, maxUnpackedBytes });
      return join(root, 'dest');
    },
  };

  for (const [where, unpack] of Object.entries(paths)) {
    describe(where, () => {
      before(() => freshOutside());
      const refuse = async (entries: (o: string) => EntrySpec[], pattern: RegExp) => {
        freshOutside();
        await assert.rejects(unpack(buildTar(entries(outside))), pattern);
        assertOutsideUntouched();
      };

      test('".." entries are refused', () => refuse(() => [{ name: '../../escaped', data: 'x' }], /points outside the target/));
      test('absolute names land inside', async () => {
        freshOutside();
        const dir = await unpack(buildTar([{ name: `${outside}/victim`, data: 'inside\n' }]));
        assert.equal(readFileSync(join(dir, outside, 'victim'), 'utf8'), 'inside\n');
        assertOutsideUntouched();
      });
      test('a file beneath a symlink the archive made is refused', () =>
        refuse((o) => [{ name: 'evil', type: 'symlink', linkname: o }, { name: 'evil/victim', data: 'pwned' }], /symlink the archive created/));
      test('a relative symlink climbing out, then written through, is refused', () =>
        refuse(() => [{ name: 'up', type: 'symlink', linkname: '../../../../../../../../..' }, { name: 'up/tmp/escaped', data: 'pwned' }], /symlink the archive created/));
      test('a hard link to a path outside is refused', () => refuse(() => [{ name: 'h', type: 'link', linkname: '../../../victim' }], /points outside the target/));
      test('a hard link to a symlink pointing outside is refused', () =>
        refuse((o) => [{ name: 's', type: 'symlink', linkname: `${o}/victim` }, { name: 'h', type: 'link', linkname: 's' }], /symlink the archive created/));
      test('a file over a symlink pointing outside replaces the link', async () => {
        freshOutside();
        const dir = await unpack(buildTar([{ name: 's', type: 'symlink', linkname: `${outside}/victim` }, { name: 's', data: 'inside\n', mode: 0o4755 }]));
        assert.ok(lstatSync(join(dir, 's')).isFile());
        assertOutsideUntouched();
      });
      test('a directory a later entry turns into a symlink keeps the host\'s times and modes', async () => {
        freshOutside();
        const dir = await unpack(buildTar([
          { name: 'd/', type: 'dir', mode: 0o4777, mtime: 1_500_000_000 },
          { name: 'd/sub/', type: 'dir', mode: 0o4777, mtime: 1_500_000_000 },
          { name: 'd', type: 'symlink', linkname: outside },
        ]));
        assert.ok(lstatSync(join(dir, 'd')).isSymbolicLink());
        assertOutsideUntouched();
      });
      test('setuid bits are kept inside and given to nothing outside', async () => {
        freshOutside();
        const dir = await unpack(buildTar([{ name: 'bin/', type: 'dir' }, { name: 'bin/su', data: 'su', mode: 0o4755 }, { name: 'bin/victim', type: 'symlink', linkname: `${outside}/victim` }]));
        assert.equal(statSync(join(dir, 'bin/su')).mode & 0o7777, 0o4755);
        assertOutsideUntouched();
      });
      for (const [kind, compress] of [['gzip', (b: Buffer) => gzipSync(b)], ['zstd', (b: Buffer) => execFileSync('zstd', ['-c', '-q', '-19'], { input: b })]] as const) {
        test(`a ${kind} bomb stops at the unpack limit with a clear error`, async () => {
          freshOutside();
          const bomb = compress(buildTar([{ name: 'zeros', data: Buffer.alloc(4 * LIMIT) }]));
          assert.ok(bomb.length < 64 * 1024);
          await assert.rejects(unpack(bomb), new RegExp(`${kind} data unpacks to more than ${LIMIT} bytes`));
        });
      }
    });
  }

  test('a build context gets no device nodes', async () => {
    freshOutside();
    const dir = await paths['build context'](buildTar([
      { name: 'Dockerfile', data: 'FROM scratch\n' },
      { name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o660 },
    ]));
    assert.deepEqual(readdirSync(dir), ['Dockerfile']);
  });

  test('ADD unpacks an archive in the target image that links out into the image, not the host', async () => {
    freshOutside();
    const dest = await paths['ADD of a local archive'](buildTar([{ name: 'plain', data: 'ok' }]));
    const root = join(dest, '..');
    // The image's /data -> <outside>; an archive with rename into /data must land in the image.
    const archive = join(scratch, 'into-data.tar');
    writeFileSync(archive, buildTar([{ name: 'x', data: 'inside' }]));
    await extractLocalArchive(archive, new RootedFilesystem(root), '/data', { owner: undefined, maxUnpackedBytes: LIMIT });
    assert.equal(readFileSync(join(root, outside, 'x'), 'utf8'), 'inside');
    assertOutsideUntouched();
  });

  test('ADD never reads an archive through a symlink in the context, nor from a FIFO', async () => {
    freshOutside();
    const hostTar = join(outside, 'sub', 'host.tar');
    writeFileSync(hostTar, buildTar([{ name: 'secret', data: 'host secret' }]));
    const context = join(scratch, 'ctx-links');
    mkdirSync(context);
    symlinkSync(hostTar, join(context, 'evil.tar'));
    execFileSync('mkfifo', [join(context, 'fifo.tar')]);
    assert.equal(await isLocalArchive(join(context, 'evil.tar')), false, 'a link is copied as a link, not unpacked');
    assert.equal(await isLocalArchive(join(context, 'fifo.tar')), false, 'a FIFO is not opened for reading');
    await assert.rejects(extractLocalArchive(join(context, 'evil.tar'), new RootedFilesystem(join(scratch, 'unused')), '/', { owner: undefined, maxUnpackedBytes: LIMIT }));
    rmSync(hostTar);
  });
});
