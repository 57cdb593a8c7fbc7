/**
 * A container's state as `docker ps` shows it: the STATUS text (moby's State.String()), which
 * states a plain `docker ps` lists, and the values the `status=` filter accepts.
 */
import { humanDuration } from '../lib/human-units.js';
import type { ContainerState, ContainerStatus } from './container-record.js';

/** Every value of State.Status; the `status=` filter refuses anything else, as moby does. */
export const CONTAINER_STATUSES: readonly ContainerStatus[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];

/** Go's zero time reads as "never" (a container never started or never stopped). */
function isZeroTime(time: string): boolean {
  return time === '' || time.startsWith('0001-01-01');
}

function since(time: string, nowMs: number): string {
  return humanDuration(nowMs - Date.parse(time));
}

/**
 * "Up 5 minutes (Paused)", "Restarting (1) 3 seconds ago", "Exited (0) 2 hours ago", "Created",
 * "Removal In Progress", "Dead", "Up 10 seconds (health: starting)", in moby's order of checks.
 */
export function statusText(state: ContainerState, nowMs: number): string {
  switch (state.status) {
    case 'paused':
      // A paused container's health is not shown: moby checks Paused first.
      return `Up ${since(state.startedAt, nowMs)} (Paused)`;
    case 'restarting':
      return `Restarting (${state.exitCode}) ${since(state.finishedAt, nowMs)} ago`;
    case 'running': {
      const health = state.health?.Status;
      const suffix = !health ? '' : health === 'starting' ? ' (health: starting)' : ` (${health})`;
      return `Up ${since(state.startedAt, nowMs)}${suffix}`;
    }
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'created':
    case 'exited':
      if (isZeroTime(state.startedAt)) return 'Created';
      if (isZeroTime(state.finishedAt)) return '';
      return `Exited (${state.exitCode}) ${since(state.finishedAt, nowMs)} ago`;
  }
}

/** moby's State.Running: true for paused and restarting containers too, which a plain `docker ps` lists. */
export function isListedWithoutAll(status: ContainerStatus): boolean {
  return status === 'running' || status === 'paused' || status === 'restarting';
}
