/**
 * A lock file naming its holder's pid, taken with link(2) so two processes starting at once
 * cannot both win. A lock whose holder is gone (dead, or the pid now runs something else) is
 * taken over. The same scheme as berthd's data-root lock, for any program and directory.
 */
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { errnoCode } from './errors.js';

export interface PidLock {
  release(): Promise<void>;
}

export type PidLockResult = { acquired: true; lock: PidLock } | { acquired: false; holder: number };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** True when `pid` runs a program whose command line holds one of `markers`. */
export async function processRuns(pid: number, markers: string[]): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return markers.some((marker) => cmdline.includes(marker));
}

/**
 * Takes `lockPath` for `pid`, or reports the live holder. `isHolder(pid)` says whether a pid
 * found in the file is still the program that took it (pids are reused).
 */
export async function tryLockPidFile(lockPath: string, pid: number, isHolder: (pid: number) => Promise<boolean>): Promise<PidLockResult> {
  await mkdir(dirname(lockPath), { recursive: true });
  const tempPath = join(dirname(lockPath), `.${basename(lockPath)}.${pid}`);
  await writeFile(tempPath, `${pid}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tempPath, lockPath);
        return {
          acquired: true,
          lock: {
            release: async () => {
              const owner = await readFile(lockPath, 'utf8').catch(() => '');
              if (owner.trim() === String(pid)) await unlink(lockPath).catch(() => undefined);
            },
          },
        };
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
      }
      const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== pid && (await isHolder(owner))) return { acquired: false, holder: owner };
      // The holder is gone: the lock is stale.
      await unlink(lockPath).catch(() => undefined);
    }
    const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    return { acquired: false, holder: Number.isInteger(owner) ? owner : 0 };
  } finally {
    await unlink(tempPath).catch(() => undefined);
  }
}
