/**
 * One writer per registry root: a writable `serve` and `garbage-collect` each hold
 * `<root>/berth-registry.lock` (the holder's pid), so garbage collection never sweeps blobs a
 * running server is linking between a push's blob uploads and its manifest.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FailedPreconditionError } from '../lib/errors.js';
import { processRuns, tryLockPidFile, type PidLock } from '../lib/pid-lock-file.js';

export type StorageUser = 'serve' | 'garbage-collect';

const REGISTRY_MARKERS = ['berth-registry', 'registry/main'];

export async function lockStorage(root: string, pid: number, user: StorageUser): Promise<PidLock> {
  const result = await tryLockPidFile(join(root, 'berth-registry.lock'), pid, (holder) => processRuns(holder, REGISTRY_MARKERS));
  if (result.acquired) return result.lock;
  const holderArgs = await readFile(`/proc/${result.holder}/cmdline`, 'utf8').catch(() => '');
  const holder = holderArgs.split('\0').includes('garbage-collect') ? 'garbage-collect' : 'a berth-registry server';
  const advice = user === 'garbage-collect' ? 'stop it (or restart it with --read-only) before collecting garbage' : 'wait for it to finish or stop it first';
  throw new FailedPreconditionError(`${holder} (pid ${result.holder}) holds the registry storage ${root}: ${advice}`);
}
