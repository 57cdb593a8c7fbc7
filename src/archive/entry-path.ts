/** Where a tar entry may land: relative, clean, inside the target, never through a symlink it made. */
import { posix } from 'node:path';
import { InvalidArgumentError } from '../lib/errors.js';

export class HostileArchiveError extends InvalidArgumentError {
  constructor(message: string) {
    super(message, { code: 'BERTH_HOSTILE_ARCHIVE' });
  }
}

/**
 * Cleans an entry name to a path relative to the target ("" for the root itself). Leading "/"
 * is dropped as Docker does; a path that climbs out with ".." is refused.
 */
export function cleanEntryPath(name: string): string {
  if (name.includes('\0')) throw new HostileArchiveError(`refusing archive entry with a NUL byte in its name`);
  const normalized = posix.normalize(`/${name}`);
  // normalize('/..') is '/', so climbing out can only be seen before rooting the path.
  const relative = posix.normalize(name.replace(/^\/+/, ''));
  if (relative === '..' || relative.startsWith('../')) throw new HostileArchiveError(`refusing archive entry "${name}": it points outside the target`);
  return normalized === '/' ? '' : normalized.slice(1).replace(/\/$/, '');
}

/** Tracks the symlinks an archive has created, so no later entry is written through one. */
export class SymlinkGuard {
  private readonly links = new Set<string>();

  /** Throws when a parent of `path` is a symlink this archive created. */
  check(path: string, what: string): void {
    if (this.links.size === 0) return;
    let index = path.indexOf('/');
    while (index !== -1) {
      const parent = path.slice(0, index);
      if (this.links.has(parent)) throw new HostileArchiveError(`refusing archive entry "${what}": its parent "${parent}" is a symlink the archive created`);
      index = path.indexOf('/', index + 1);
    }
  }

  /** Records what now stands at `path` (a symlink or something that replaced one). */
  record(path: string, isSymlink: boolean): void {
    if (isSymlink) this.links.add(path);
    else this.links.delete(path);
  }
}
