/**
 * Turns a snapshot's upper directory back into an OCI layer tar: overlay whiteouts (0/0 character
 * devices) become `.wh.<name>` entries, opaque directories get `.wh..wh..opq`, hard links stay
 * links, xattrs other than overlay's own are kept.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stats } from 'node:fs';
import type { CommandRunner } from '../lib/command-runner.js';
import { END_OF_ARCHIVE, encodeHeader, paddingFor, type EntryType, type TarHeader } from './tar-header.js';
import { dumpXattrs } from './xattr-dump.js';
import { OPAQUE_WHITEOUT, OPAQUE_XATTR, WHITEOUT_PREFIX } from './layer-apply.js';

function typeOf(stat: Stats): EntryType | undefined {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isCharacterDevice()) return 'char';
  if (stat.isBlockDevice()) return 'block';
  if (stat.isFIFO()) return 'fifo';
  return undefined;
}

/**
 * The layer tar for `upperDir`, as a stream of chunks. `exclude` names paths (relative, without a
 * leading slash) left out with what is under them: a container's mount points, for commit.
 */
export async function* layerDiff(upperDir: string, runner: CommandRunner, exclude: ReadonlySet<string> = new Set()): AsyncGenerator<Buffer> {
  const xattrs = await dumpXattrs(upperDir, runner);
  const seenInodes = new Map<number, string>();

  const headerFor = (name: string, stat: Stats, type: EntryType, extra: Partial<TarHeader> = {}): TarHeader => {
    const kept = new Map([...(xattrs.get(join(upperDir, name)) ?? [])].filter(([key]) => !key.startsWith('trusted.overlay.')));
    return {
      name,
      type,
      mode: stat.mode & 0o7777,
      uid: stat.uid,
      gid: stat.gid,
      size: type === 'file' ? stat.size : 0,
      mtime: Math.floor(stat.mtimeMs / 1000),
      linkname: '',
      uname: '',
      gname: '',
      devmajor: type === 'char' || type === 'block' ? Math.floor(stat.rdev / 256) & 0xfff : 0,
      devminor: type === 'char' || type === 'block' ? (stat.rdev & 0xff) | ((stat.rdev >> 12) & 0xfff00) : 0,
      xattrs: kept,
      ...extra,
    };
  };

  async function* walk(relative: string): AsyncGenerator<Buffer> {
    const names = (await readdir(join(upperDir, relative))).sort();
    for (const base of names) {
      const name = relative ? `${relative}/${base}` : base;
      if (exclude.has(name)) continue;
      const path = join(upperDir, name);
      const stat = await lstat(path);
      const type = typeOf(stat);
      if (!type) continue; // sockets do not go into layers
      if (type === 'char' && stat.rdev === 0) {
        const whiteout = relative ? `${relative}/${WHITEOUT_PREFIX}${base}` : `${WHITEOUT_PREFIX}${base}`;
        yield encodeHeader(headerFor(whiteout, stat, 'file', { mode: 0o644, size: 0, xattrs: new Map() }));
        continue;
      }
      if (type === 'dir') {
        yield encodeHeader(headerFor(name, stat, 'dir'));
        if (xattrs.get(path)?.get(OPAQUE_XATTR)?.toString() === 'y') {
          yield encodeHeader(headerFor(`${name}/${OPAQUE_WHITEOUT}`, stat, 'file', { mode: 0o644, size: 0, xattrs: new Map() }));
        }
        yield* walk(name);
        continue;
      }
      if (type === 'symlink') {
        yield encodeHeader(headerFor(name, stat, 'symlink', { linkname: await readlink(path) }));
        continue;
      }
      if (type === 'file' && stat.nlink > 1) {
        const first = seenInodes.get(stat.ino);
        if (first) {
          yield encodeHeader(headerFor(name, stat, 'link', { linkname: first, size: 0 }));
          continue;
        }
        seenInodes.set(stat.ino, name);
      }
      yield encodeHeader(headerFor(name, stat, type));
      if (type === 'file' && stat.size > 0) {
        let written = 0;
        for await (const chunk of createReadStream(path, { end: stat.size - 1 })) {
          written += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
        if (written !== stat.size) throw new Error(`${name} changed size while it was being read`);
        const pad = paddingFor(stat.size);
        if (pad.length) yield pad;
      }
    }
  }

  yield* walk('');
  yield END_OF_ARCHIVE;
}
