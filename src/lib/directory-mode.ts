import { chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from './errors.js';

/**
 * Makes `path` a directory with exactly `mode`, also when it already exists: a directory an older
 * berth (or an administrator) made with laxer permissions gets the current ones at start. Missing
 * parents are made 0755; only the directory itself is restricted.
 */
export async function ensureDirectoryMode(path: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await mkdir(path, { mode }).catch((err: unknown) => {
    if (errnoCode(err) !== 'EEXIST') throw err;
  });
  await chmod(path, mode);
}
