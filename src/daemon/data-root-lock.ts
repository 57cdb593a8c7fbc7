/**
 * One berthd per data root: a lock file holding the owner's pid, taken with link(2) so two
 * daemons starting at once cannot both win. A lock left by a dead process is taken over.
 */
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDirectoryMode } from '../lib/directory-mode.js';
import { FailedPreconditionError, errnoCode } from '../lib/errors.js';

export interface DataRootLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

async function isBerthd(pid: number): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('berthd') || cmdline.includes('daemon/main');
}

export async function lockDataRoot(dataRoot: string, pid: number): Promise<DataRootLock> {
  // As dockerd: only root goes in, so no other user reaches a setuid file in a volume or a rootfs.
  await ensureDirectoryMode(dataRoot, 0o710);
  const lockPath = join(dataRoot, 'berthd.lock');
  const tempPath = join(dataRoot, `.berthd.lock.${pid}`);
  await writeFile(tempPath, `${pid}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(tempPath, lockPath);
        return {
          release: async () => {
            const owner = await readFile(lockPath, 'utf8').catch(() => '');
            if (owner.trim() === String(pid)) await unlink(lockPath).catch(() => undefined);
          },
        };
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
      }
      const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== pid && isAlive(owner) && (await isBerthd(owner))) {
        throw new FailedPreconditionError(
          `another berthd (pid ${owner}) is using the data root ${dataRoot}; stop it first or start this one with a different --data-root`,
        );
      }
      // The owner is gone: the lock is stale.
      await unlink(lockPath).catch(() => undefined);
    }
    throw new FailedPreconditionError(`could not lock the data root ${dataRoot}: another berthd keeps taking it`);
  } finally {
    await unlink(tempPath).catch(() => undefined);
  }
}
