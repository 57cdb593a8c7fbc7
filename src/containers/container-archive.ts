/**
 * docker cp's side in the engine: HEAD, GET and PUT /containers/{id}/archive. Paths resolve as
 * moby resolves them (a trailing "/" or "/." follows the last link; PUT always follows it), always
 * inside the container's root, on running and stopped containers alike. A running container is
 * frozen for the copy, so none of its processes can swap a path berth resolved (CVE-2018-15664).
 */
import { posix } from 'node:path';
import { ForbiddenError, InvalidArgumentError, NotFoundError } from '../lib/errors.js';
import type { NewEvent } from '../events/index.js';
import { goFileMode, type PathStat } from '../archive/go-file-mode.js';
import { extractArchive } from '../archive/path-archive.js';
import { packPath } from '../archive/path-archive.js';
import { MissingParentError, NotADirectoryComponentError, type RootedFilesystem } from '../archive/rooted-path.js';
import type { ContainerRecord } from './container-record.js';

export interface OpenedFilesystem {
  record: ContainerRecord;
  fs: RootedFilesystem;
  release: () => Promise<void>;
}

export interface ContainerArchiveDeps {
  open(term: string): Promise<OpenedFilesystem>;
  /** Freezes a running container (shared with other copies and commits) until the returned thaw. */
  freeze(id: string): Promise<() => Promise<void>>;
  /** The uid and gid of the container's configured user, for copyUIDGID; undefined without one. */
  userOwner(opened: OpenedFilesystem): Promise<{ uid: number; gid: number } | undefined>;
  publish(event: NewEvent): void;
}

export class ContainerFileNotFoundError extends NotFoundError {
  constructor(path: string, container: string) {
    super(`Could not find the file ${path} in container ${container}`);
  }
}

/** Joins the request path to "/" keeping a trailing "/" or "/." (they decide link following). */
function absolutePath(path: string): string {
  if (!path) throw new InvalidArgumentError('path cannot be empty');
  const joined = posix.join('/', path);
  if (path.endsWith('/.') && !joined.endsWith('/.')) return joined === '/' ? '/.' : `${joined}/.`;
  if (path.endsWith('/') && !joined.endsWith('/')) return `${joined}/`;
  return joined;
}

function followsLast(absolute: string): boolean {
  return absolute.endsWith('/') || absolute.endsWith('/.');
}

export class ContainerArchive {
  constructor(private readonly deps: ContainerArchiveDeps) {}

  /** The container's filesystem with its processes frozen until release (thawed also on failure). */
  private async open(term: string): Promise<OpenedFilesystem> {
    const opened = await this.deps.open(term);
    let thaw: () => Promise<void>;
    try {
      thaw = await this.deps.freeze(opened.record.id);
    } catch (err) {
      await opened.release();
      throw err;
    }
    const release = async () => {
      try {
        await opened.release();
      } finally {
        await thaw();
      }
    };
    return { ...opened, release };
  }

  private async statOpened(opened: OpenedFilesystem, term: string, path: string): Promise<{ stat: PathStat; containerPath: string }> {
    const absolute = absolutePath(path);
    const notFound = () => new ContainerFileNotFoundError(path, term);
    const resolved = await opened.fs.resolve(absolute, { followLast: followsLast(absolute) }).catch((err: unknown) => {
      if (err instanceof MissingParentError || err instanceof NotADirectoryComponentError) throw notFound();
      throw err;
    });
    if (!resolved.stats) throw notFound();
    let linkTarget = '';
    if (resolved.stats.isSymbolicLink()) {
      const target = await opened.fs.resolve(absolute, { followLast: true }).catch(() => undefined);
      linkTarget = target?.containerPath ?? '';
    }
    const trimmed = absolute.replace(/\/+$/, '');
    const name = trimmed === '' ? '/' : posix.basename(trimmed);
    const stat: PathStat = {
      name,
      size: resolved.stats.size,
      mode: goFileMode(resolved.stats),
      mtime: resolved.stats.mtime.toISOString(),
      linkTarget,
    };
    return { stat, containerPath: resolved.containerPath };
  }

  /** HEAD /containers/{id}/archive: the path's stat. */
  async stat(term: string, path: string): Promise<PathStat> {
    const opened = await this.open(term);
    try {
      return (await this.statOpened(opened, term, path)).stat;
    } finally {
      await opened.release();
    }
  }

  /** GET /containers/{id}/archive: the path's stat and a tar of it, its entries named after the requested path. */
  async get(term: string, path: string): Promise<{ stat: PathStat; stream: AsyncIterable<Buffer>; done: () => Promise<void> }> {
    const opened = await this.open(term);
    try {
      const { stat, containerPath } = await this.statOpened(opened, term, path);
      const entryName = stat.name === '/' ? '.' : stat.name;
      this.deps.publish({ Type: 'container', Action: 'archive-path', Actor: { ID: opened.record.id, Attributes: { image: opened.record.imageName, name: opened.record.name, path } } });
      return { stat, stream: packPath(opened.fs, containerPath, entryName), done: opened.release };
    } catch (err) {
      await opened.release();
      throw err;
    }
  }

  /**
   * PUT /containers/{id}/archive: extracts the tar into the directory at `path`. A read-only
   * rootfs or volume refuses the copy before anything is written.
   */
  async put(term: string, path: string, body: AsyncIterable<Buffer>, options: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
    const opened = await this.open(term);
    try {
      const absolute = absolutePath(path);
      const resolved = await opened.fs.resolve(absolute, { followLast: true }).catch((err: unknown) => {
        if (err instanceof MissingParentError) throw new ContainerFileNotFoundError(path, term);
        if (err instanceof NotADirectoryComponentError) throw new InvalidArgumentError('extraction point is not a directory');
        throw err;
      });
      if (!resolved.stats) throw new ContainerFileNotFoundError(path, term);
      if (!resolved.stats.isDirectory()) throw new InvalidArgumentError('extraction point is not a directory');
      const volume = [...(opened.record.mounts ?? [])]
        .filter((m) => m.Type !== 'tmpfs' && (resolved.containerPath === m.Destination || resolved.containerPath.startsWith(`${m.Destination.replace(/\/$/, '')}/`)))
        .sort((a, b) => b.Destination.length - a.Destination.length)[0];
      if (volume && !volume.RW) throw new ForbiddenError('mounted volume is marked read-only');
      if (!volume && opened.record.hostConfig['ReadonlyRootfs'] === true) throw new ForbiddenError('container rootfs is marked read-only');
      const owner = options.copyUIDGID ? await this.deps.userOwner(opened) : undefined;
      await extractArchive(body, opened.fs, resolved.containerPath, { noOverwriteDirNonDir: options.noOverwriteDirNonDir, refuseDevices: true, ...(owner ? { owner } : {}) });
      this.deps.publish({ Type: 'container', Action: 'extract-to-dir', Actor: { ID: opened.record.id, Attributes: { image: opened.record.imageName, name: opened.record.name, path } } });
    } finally {
      await opened.release();
    }
  }
}
