/**
 * The tar streams of docker cp: one path (and everything under it) packed from a rooted filesystem,
 * and an archive extracted into a directory of one. Neither follows a symlink it finds on the way
 * except through RootedFilesystem, which keeps every resolution inside the root.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, readlink, rename, rm, symlink, type FileHandle } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { posix } from 'node:path';
import { ConflictError, InvalidArgumentError } from '../lib/errors.js';
import { cleanEntryPath, HostileArchiveError, SymlinkGuard } from './entry-path.js';
import { readTar } from './tar-reader.js';
import { END_OF_ARCHIVE, TarFormatError, encodeHeader, paddingFor, type EntryType, type TarHeader } from './tar-header.js';
import { MissingParentError, NotADirectoryComponentError, type RootedFilesystem } from './rooted-path.js';

const run = promisify(execFile);
const READ_CHUNK = 256 * 1024;

function entryTypeOfStats(stats: Stats): EntryType | undefined {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isCharacterDevice()) return 'char';
  if (stats.isBlockDevice()) return 'block';
  return undefined; // sockets are not archived, as in GNU tar
}

/**
 * Packs the container path `path` (not followed if it is a link) as `entryName` and, for a
 * directory, everything below it. Mounts below it are packed from their sources. Hard links
 * within the pack become link entries.
 */
export interface PackOptions {
  /** Packs only the entries this accepts (directories are walked either way). */
  include?: (name: string) => boolean;
  /** Owner written for every entry instead of the files' own (docker cp without -a). */
  owner?: { uid: number; gid: number };
}

export async function* packPath(fs: RootedFilesystem, path: string, entryName: string, options: PackOptions = {}): AsyncGenerator<Buffer> {
  const { include, owner } = options;
  const seen = new Map<string, string>();
  async function* walk(containerPath: string, name: string): AsyncGenerator<Buffer> {
    const host = fs.hostPathOf(containerPath);
    const stats = await lstat(host).catch(() => undefined);
    if (!stats) return; // vanished while packing (a running container)
    const type = entryTypeOfStats(stats);
    if (!type) return;
    const header: TarHeader = {
      name, type, mode: stats.mode & 0o7777, uid: owner?.uid ?? stats.uid, gid: owner?.gid ?? stats.gid, size: 0,
      mtime: Math.floor(stats.mtimeMs / 1000), linkname: '', uname: '', gname: '',
      devmajor: 0, devminor: 0, xattrs: new Map(),
    };
    if (type === 'symlink') header.linkname = await readlink(host);
    if (type === 'char' || type === 'block') {
      header.devmajor = Math.floor(stats.rdev / 256) & 0xfff;
      header.devminor = (stats.rdev & 0xff) | (Math.floor(stats.rdev / 4096) & 0xfff00);
    }
    if (type === 'file' && stats.nlink > 1) {
      const key = `${stats.dev}:${stats.ino}`;
      const first = seen.get(key);
      if (first) {
        yield encodeHeader({ ...header, type: 'link', linkname: first });
        return;
      }
      seen.set(key, name);
    }
    // An excluded directory is still walked: a later rule may bring back something inside it.
    const included = include === undefined || include(name);
    if (!included && type !== 'dir') return;
    if (type === 'file') {
      const handle = await openSameFile(host, stats);
      if (!handle) return; // replaced or gone since the lstat: never pack what stands there now
      try {
        header.size = stats.size;
        yield encodeHeader(header);
        yield* fileData(handle, stats.size);
      } finally {
        await handle.close();
      }
      return;
    }
    if (included) yield encodeHeader(header);
    if (type !== 'dir') return;
    const children = (await readdir(host).catch(() => [] as string[])).sort();
    for (const child of children) yield* walk(posix.join(containerPath, child), `${name}/${child}`);
  }
  yield* walk(path, entryName);
  yield END_OF_ARCHIVE;
}

/**
 * The regular file at `host` if it is still the one `expected` describes (same device and inode),
 * opened without following a link; undefined otherwise.
 */
async function openSameFile(host: string, expected: Stats): Promise<FileHandle | undefined> {
  const handle = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!handle) return undefined;
  const now = await handle.stat().catch(() => undefined);
  if (now && now.isFile() && now.dev === expected.dev && now.ino === expected.ino) return handle;
  await handle.close();
  return undefined;
}

/** Exactly `size` bytes of the file (padded with zeros if it shrank meanwhile), then tar padding. */
async function* fileData(handle: FileHandle, size: number): AsyncGenerator<Buffer> {
  let left = size;
  while (left > 0) {
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) {
      yield Buffer.alloc(left);
      break;
    }
    left -= bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
  const pad = paddingFor(size);
  if (pad.length) yield pad;
}

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory or the other way round (docker cp). */
  noOverwriteDirNonDir: boolean;
  /** Owner for every entry instead of the archive's (docker cp -a into a container with a User). */
  owner?: { uid: number; gid: number };
  /** Mode for every file and directory instead of the archive's (COPY --chmod). */
  mode?: number;
  /** Renames an entry's cleaned path (the CLI copies `a` to `b` by renaming the first component). */
  rename?: (path: string) => string;
  /** Skips block and character devices (where no device may be made, as in a build context). */
  skipDevices?: boolean;
  /** Refuses device nodes (docker cp: a container's devices come from its config, never from a copy). */
  refuseDevices?: boolean;
}

export class ExtractionPointError extends InvalidArgumentError {
  constructor() {
    super('extraction point is not a directory');
  }
}

/**
 * Extracts the tar in `source` into the directory `directory` (a container path, links followed
 * inside the root). Every entry's parent is resolved inside the root; the entry itself is written
 * to a temporary name and renamed into place, so an existing symlink is replaced, never followed.
 */
export async function extractArchive(source: AsyncIterable<Buffer>, fs: RootedFilesystem, directory: string, options: ExtractOptions): Promise<{ entries: number; bytes: number }> {
  const base = await fs.resolve(directory, { followLast: true }).catch((err: unknown) => {
    if (err instanceof NotADirectoryComponentError) throw new ExtractionPointError();
    throw err;
  });
  if (!base.stats) throw new MissingParentError(directory);
  if (!base.stats.isDirectory()) throw new ExtractionPointError();
  const guard = new SymlinkGuard();
  const directories: { containerPath: string; mtime: number }[] = [];
  let entries = 0;
  let bytes = 0;
  try {
    for await (const entry of readTar(source)) {
      const header = entry.header;
      let path = cleanEntryPath(header.name);
      if (options.rename) path = options.rename(path);
      if (path === '' || path === '.') continue; // the extraction point itself stays as it is
      if (options.skipDevices && (header.type === 'char' || header.type === 'block')) continue;
      guard.check(path, header.name);
      if (options.refuseDevices && (header.type === 'char' || header.type === 'block')) {
        throw new HostileArchiveError(`refusing archive entry "${header.name}": device nodes are not copied into containers`);
      }
      const parent = await ensureDirectory(fs, posix.join(base.containerPath, posix.dirname(path)));
      const containerPath = posix.join(parent, posix.basename(path));
      const target = fs.hostPathOf(containerPath);
      const existing = await lstat(target).catch(() => undefined);
      const owner = options.owner ?? { uid: header.uid, gid: header.gid };
      if (header.type === 'dir') {
        if (existing && !existing.isDirectory()) {
          if (options.noOverwriteDirNonDir) throw new ConflictError(`cannot overwrite non-directory "${containerPath}" with directory "${path}"`);
          await rm(target, { force: true });
        }
        if (!existing || !existing.isDirectory()) await mkdir(target, { mode: 0o700 });
        // Owner and mode through the directory itself, opened without following a link at its name.
        const dir = await open(target, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
        try {
          await dir.chown(owner.uid, owner.gid);
          await dir.chmod(options.mode ?? header.mode & 0o7777);
        } finally {
          await dir.close();
        }
        directories.push({ containerPath, mtime: header.mtime });
        guard.record(path, false);
        entries++;
        continue;
      }
      if (existing?.isDirectory()) {
        if (options.noOverwriteDirNonDir) throw new ConflictError(`cannot overwrite directory "${containerPath}" with non-directory "${path}"`);
        await rm(target, { recursive: true, force: true });
      }
      const temp = posix.join(posix.dirname(target), `.berth-cp-${randomBytes(6).toString('hex')}`);
      try {
        if (header.type === 'file') {
          const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
          try {
            for await (const chunk of entry.data()) await handle.write(chunk);
            await setAttributes(handle, owner, options.mode ?? header.mode & 0o7777, header.mtime);
          } finally {
            await handle.close();
          }
          bytes += header.size;
        } else if (header.type === 'symlink') {
          await symlink(header.linkname, temp);
        } else if (header.type === 'link') {
          let linked = cleanEntryPath(header.linkname);
          if (options.rename) linked = options.rename(linked);
          guard.check(`${linked}/`, header.linkname);
          const source = await fs.resolve(posix.join(base.containerPath, linked), { followLast: false });
          if (!source.stats) throw new InvalidArgumentError(`hard link "${header.name}" points to "${header.linkname}", which is not in the archive`);
          await link(source.hostPath, temp);
        } else {
          const kind = header.type === 'fifo' ? ['p'] : [header.type === 'char' ? 'c' : 'b', String(header.devmajor), String(header.devminor)];
          await run('mknod', [temp, ...kind]);
        }
        if (header.type === 'symlink') {
          await lchown(temp, owner.uid, owner.gid);
          await lutimes(temp, header.mtime, header.mtime);
        } else if (header.type === 'fifo') {
          // A FIFO opened for reading without blocking: its attributes set through it, not by name.
          const handle = await open(temp, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
          try {
            await setAttributes(handle, owner, options.mode ?? header.mode & 0o7777, header.mtime);
          } finally {
            await handle.close();
          }
        } else if (header.type === 'char' || header.type === 'block') {
          // Opening a device could act on it: by name, under the temporary name berth just made.
          await lchown(temp, owner.uid, owner.gid);
          await chmod(temp, options.mode ?? header.mode & 0o7777);
          await lutimes(temp, header.mtime, header.mtime);
        }
        await rename(temp, target);
      } catch (err) {
        await rm(temp, { force: true }).catch(() => undefined);
        throw err;
      }
      guard.record(path, header.type === 'symlink');
      entries++;
    }
  } catch (err) {
    if (err instanceof TarFormatError) throw new InvalidArgumentError(`invalid tar archive: ${err.message}`, { cause: err });
    if (err instanceof HostileArchiveError) throw err;
    throw err;
  }
  // Directory times last: writing into a directory changes its mtime. A later entry may have
  // turned the directory or a parent into a symlink, so each is resolved again inside the root,
  // and one that is no longer the same directory keeps its time.
  for (const dir of directories.reverse()) {
    const now = await fs.resolve(dir.containerPath, { followLast: false }).catch(() => undefined);
    if (now?.containerPath !== dir.containerPath || !now.stats?.isDirectory()) continue;
    await lutimes(now.hostPath, dir.mtime, dir.mtime).catch(() => undefined);
  }
  return { entries, bytes };
}

/** Owner, then mode (a chown clears setuid bits), then times, all through the open file. */
async function setAttributes(handle: FileHandle, owner: { uid: number; gid: number }, mode: number, mtime: number): Promise<void> {
  await handle.chown(owner.uid, owner.gid);
  await handle.chmod(mode);
  await handle.utimes(mtime, mtime);
}

/** The container path of directory `path` (links resolved), created with its parents if missing. */
async function ensureDirectory(fs: RootedFilesystem, path: string): Promise<string> {
  for (;;) {
    try {
      const resolved = await fs.resolve(path, { followLast: true });
      if (!resolved.stats) {
        await mkdir(resolved.hostPath, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
        continue;
      }
      if (!resolved.stats.isDirectory()) throw new ConflictError(`cannot extract into "${resolved.containerPath}": not a directory`);
      return resolved.containerPath;
    } catch (err) {
      if (err instanceof NotADirectoryComponentError) throw new ConflictError(`cannot extract into "${err.containerPath}": not a directory`);
      if (!(err instanceof MissingParentError)) throw err;
      // The error names the first missing component (its own parent exists): make that one.
      await ensureDirectory(fs, err.containerPath);
    }
  }
}
