/**
 * Resolves a path the way a process chrooted into a container would see it: every symlink is read
 * by berth and resolved against the container's root (an absolute target restarts at that root, a
 * ".." stops at it), so no link inside the container can lead a copy to the host's files. Mount
 * points (volumes, binds, the generated /etc files) map container paths to their host sources.
 */
import { lstat, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { InvalidArgumentError } from '../lib/errors.js';

/** A container path served by another host directory or file (longest destination wins). */
export interface RootedMount {
  destination: string;
  source: string;
}

export interface ResolvedPath {
  /** The clean absolute path inside the container, all links resolved. */
  containerPath: string;
  /** Where that path lives on the host. */
  hostPath: string;
  /** lstat of hostPath, or undefined when nothing exists there (its parent does). */
  stats: Stats | undefined;
}

/** Linux's own limit on links followed while resolving one path. */
const MAX_LINKS = 40;

export class TooManyLinksError extends InvalidArgumentError {
  constructor(path: string) {
    super(`too many levels of symbolic links: ${path}`);
  }
}

/** A missing path component that is not the last one (the parent does not exist). */
export class MissingParentError extends Error {
  constructor(readonly containerPath: string) {
    super(`no such directory: ${containerPath}`);
  }
}

/** A path component below a non-directory (ENOTDIR). */
export class NotADirectoryComponentError extends Error {
  constructor(readonly containerPath: string) {
    super(`not a directory: ${containerPath}`);
  }
}

export class RootedFilesystem {
  private readonly mounts: RootedMount[];

  constructor(readonly root: string, mounts: readonly RootedMount[] = []) {
    this.mounts = mounts
      .map((m) => ({ destination: posix.normalize(`/${m.destination}`).replace(/(.)\/$/, '$1'), source: m.source }))
      .sort((a, b) => b.destination.length - a.destination.length);
  }

  /** The host path of a clean absolute container path, through the innermost mount holding it. */
  hostPathOf(containerPath: string): string {
    for (const m of this.mounts) {
      if (containerPath === m.destination) return m.source;
      if (m.destination === '/' || containerPath.startsWith(`${m.destination}/`)) {
        return posix.join(m.source, containerPath.slice(m.destination === '/' ? 0 : m.destination.length));
      }
    }
    return posix.join(this.root, containerPath);
  }

  /**
   * Resolves `path` (absolute, or relative to "/") inside the root. Links in every component but
   * the last are followed; the last is followed only with `followLast`. A missing last component
   * resolves with `stats` undefined; a missing parent throws MissingParentError.
   */
  async resolve(path: string, options: { followLast: boolean }): Promise<ResolvedPath> {
    const pending = splitPath(path);
    let current = '/';
    let links = 0;
    let currentStats: Stats | undefined = await lstat(this.hostPathOf('/'));
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '.' ) continue;
      if (part === '..') {
        current = posix.dirname(current);
        currentStats = await lstat(this.hostPathOf(current));
        continue;
      }
      if (currentStats && !currentStats.isDirectory()) throw new NotADirectoryComponentError(current);
      const next = posix.join(current, part);
      const host = this.hostPathOf(next);
      const stats = await lstat(host).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        if (err.code === 'ENOTDIR') throw new NotADirectoryComponentError(current);
        throw err;
      });
      const isLast = pending.length === 0;
      if (!stats) {
        if (!isLast) throw new MissingParentError(next);
        return { containerPath: next, hostPath: host, stats: undefined };
      }
      if (stats.isSymbolicLink() && (!isLast || options.followLast)) {
        if (++links > MAX_LINKS) throw new TooManyLinksError(path);
        const target = await readlink(host);
        pending.unshift(...splitPath(target));
        if (target.startsWith('/')) {
          current = '/';
          currentStats = await lstat(this.hostPathOf('/'));
        }
        continue;
      }
      current = next;
      currentStats = stats;
    }
    return { containerPath: current, hostPath: this.hostPathOf(current), stats: currentStats };
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '');
}
