/**
 * Docker's restart policies: whether a container that exited is started again, and after how
 * long (100 ms, doubling while it keeps failing fast; back to 100 ms once it ran for 10 s).
 */
import { InvalidArgumentError } from '../lib/errors.js';

export interface RestartPolicy {
  Name?: string;
  MaximumRetryCount?: number;
}

const NAMES = ['', 'no', 'always', 'unless-stopped', 'on-failure'];
export const INITIAL_DELAY_MS = 100;
const RESET_AFTER_MS = 10_000;

/** Checked at create, with Docker's messages. */
export function checkRestartPolicy(policy: RestartPolicy | undefined, autoRemove: boolean): void {
  const name = policy?.Name ?? '';
  if (!NAMES.includes(name)) throw new InvalidArgumentError(`invalid restart policy '${name}'`);
  const retries = policy?.MaximumRetryCount ?? 0;
  if (retries < 0) throw new InvalidArgumentError('invalid value for restart policy: maximum retry count cannot be negative');
  if (retries > 0 && name !== 'on-failure') throw new InvalidArgumentError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  if (autoRemove && name !== '' && name !== 'no') throw new InvalidArgumentError(`can't create 'AutoRemove' container with restart policy`);
}

/** Whether the container is started again after this exit. */
export function shouldRestart(policy: RestartPolicy | undefined, exit: { code: number; manuallyStopped: boolean; restartCount: number }): boolean {
  switch (policy?.Name) {
    case 'always':
      return !exit.manuallyStopped;
    case 'unless-stopped':
      return !exit.manuallyStopped;
    case 'on-failure':
      return !exit.manuallyStopped && exit.code !== 0 && (!policy.MaximumRetryCount || exit.restartCount < policy.MaximumRetryCount);
    default:
      return false;
  }
}

/** The wait before the next restart, given the previous wait and how long this run lasted. */
export function nextDelay(previousMs: number | undefined, ranMs: number): number {
  if (previousMs === undefined || ranMs >= RESET_AFTER_MS) return INITIAL_DELAY_MS;
  return Math.min(previousMs * 2, 60_000);
}

/** Policies under which berthd starts a container that is down when berthd starts. */
export function restartsWithDaemon(policy: RestartPolicy | undefined): boolean {
  return policy?.Name === 'always' || policy?.Name === 'unless-stopped';
}
