/**
 * One berthd per data root: a pid lock file (src/lib/pid-lock-file.ts) in the data root, so two
 * daemons starting at once cannot both win. A lock left by a dead process is taken over.
 */
import { join } from 'node:path';
import { ensureDirectoryMode } from '../lib/directory-mode.js';
import { FailedPreconditionError } from '../lib/errors.js';
import { processRuns, tryLockPidFile, type PidLock } from '../lib/pid-lock-file.js';

export type DataRootLock = PidLock;

export async function lockDataRoot(dataRoot: string, pid: number): Promise<DataRootLock> {
  // As dockerd: only root goes in, so no other user reaches a setuid file in a volume or a rootfs.
  await ensureDirectoryMode(dataRoot, 0o710);
  const result = await tryLockPidFile(join(dataRoot, 'berthd.lock'), pid, (owner) => processRuns(owner, ['berthd', 'daemon/main']));
  if (result.acquired) return result.lock;
  if (result.holder > 0) {
    throw new FailedPreconditionError(`another berthd (pid ${result.holder}) is using the data root ${dataRoot}; stop it first or start this one with a different --data-root`);
  }
  throw new FailedPreconditionError(`could not lock the data root ${dataRoot}: another berthd keeps taking it`);
}
