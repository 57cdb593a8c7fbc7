/**
 * `docker diff`: what a container changed, from its snapshot's upper directory. A 0/0 character
 * device is overlay's whiteout (Kind 2, deleted); anything else is added (1) unless a lower layer
 * has that path, then modified (0). Directories above a change are reported as modified, as Docker
 * does, when they exist below. An opaque directory that hides a lower one is deleted (Kind 2).
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface Change {
  Path: string;
  /** 0 modified, 1 added, 2 deleted. */
  Kind: 0 | 1 | 2;
}

async function existsBelow(lowerDirs: readonly string[], path: string): Promise<boolean> {
  for (const dir of lowerDirs) if (await lstat(join(dir, path)).then(() => true, () => false)) return true;
  return false;
}

/**
 * `mountPoints` (the generated /etc files, volumes, tmpfs) are left out, as Docker leaves them out:
 * what shows there is not the container's filesystem. A directory left with nothing to show under
 * it is dropped too.
 */
export async function containerChanges(upperDir: string, lowerDirs: readonly string[], mountPoints: readonly string[] = [], isOpaque: (path: string) => boolean = () => false): Promise<Change[]> {
  const changes: Change[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(upperDir, rel), { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = `${rel}/${entry.name}`;
      const info = await lstat(join(upperDir, path));
      if (info.isCharacterDevice() && info.rdev === 0) {
        changes.push({ Path: path, Kind: 2 });
        continue;
      }
      const below = await existsBelow(lowerDirs, path);
      if (entry.isDirectory()) {
        // A directory only copied up to hold a change is "modified"; a new one is "added". One removed
        // and made again (opaque over a lower one) is "deleted", its new entries listed after it, as moby's overlay diff.
        changes.push({ Path: path, Kind: below && isOpaque(path) ? 2 : below ? 0 : 1 });
        await walk(path);
      } else {
        changes.push({ Path: path, Kind: below ? 0 : 1 });
      }
    }
  };
  await walk('');
  const excluded = new Set(mountPoints);
  const kept = changes.filter((c) => !excluded.has(c.Path) && ![...excluded].some((m) => c.Path.startsWith(`${m}/`)));
  return kept.filter((c) => c.Kind !== 0 || !(kept.some((o) => o.Path.startsWith(`${c.Path}/`)) === false && changes.some((o) => o.Path.startsWith(`${c.Path}/`))));
}
