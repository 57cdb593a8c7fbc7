/** Test images without Docker Hub: a busybox rootfs tar from Debian's busybox-static. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './berthd.js';

/** Writes the busybox rootfs tar (scripts/make-busybox-rootfs) to `path`. */
export function makeBusyboxRootfs(path: string): string {
  execFileSync(join(REPO_ROOT, 'scripts', 'make-busybox-rootfs'), [path], { stdio: ['ignore', 'ignore', 'inherit'] });
  return path;
}

/** Files left in a daemon's staging areas: must be none after any request, failed or not. */
export function leftoverTempFiles(dataRoot: string): string[] {
  const dirs = [join(dataRoot, 'content', 'ingest'), join(dataRoot, 'overlay', 'tmp')];
  return dirs.flatMap((dir) => (existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : []));
}

export function toolAvailable(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
