import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isListedWithoutAll, statusText } from './container-status.js';
import { ZERO_TIME, type ContainerState } from './container-record.js';

const NOW = Date.parse('2026-12-05T12:00:00Z');
const state = (overrides: Partial<ContainerState>): ContainerState => ({
  status: 'created', pid: 0, exitCode: 0, error: '', startedAt: ZERO_TIME, finishedAt: ZERO_TIME, oomKilled: false, ...overrides,
});
const ago = (ms: number) => new Date(NOW - ms).toISOString();

test('each state reads as moby\'s State.String()', () => {
  assert.equal(statusText(state({}), NOW), 'Created');
  assert.equal(statusText(state({ status: 'running', startedAt: ago(300) }), NOW), 'Up Less than a second');
  assert.equal(statusText(state({ status: 'running', startedAt: ago(5 * 60_000) }), NOW), 'Up 5 minutes');
  assert.equal(statusText(state({ status: 'paused', startedAt: ago(12_000) }), NOW), 'Up 12 seconds (Paused)');
  assert.equal(statusText(state({ status: 'restarting', exitCode: 3, startedAt: ago(90_000), finishedAt: ago(1_000) }), NOW), 'Restarting (3) 1 second ago');
  assert.equal(statusText(state({ status: 'exited', exitCode: 137, startedAt: ago(4 * 3_600_000), finishedAt: ago(2 * 3_600_000) }), NOW), 'Exited (137) 2 hours ago');
  assert.equal(statusText(state({ status: 'removing', startedAt: ago(60_000), finishedAt: ago(30_000) }), NOW), 'Removal In Progress');
  assert.equal(statusText(state({ status: 'dead', startedAt: ago(60_000), finishedAt: ago(30_000) }), NOW), 'Dead');
});

test('health shows only while running, not when paused', () => {
  const running = (Status: 'starting' | 'healthy' | 'unhealthy') => state({ status: 'running', startedAt: ago(61_000), health: { Status, FailingStreak: 0, Log: [] } });
  assert.equal(statusText(running('starting'), NOW), 'Up About a minute (health: starting)');
  assert.equal(statusText(running('healthy'), NOW), 'Up About a minute (healthy)');
  assert.equal(statusText(running('unhealthy'), NOW), 'Up About a minute (unhealthy)');
  assert.equal(statusText({ ...running('healthy'), status: 'paused' }, NOW), 'Up About a minute (Paused)');
});

test('a plain docker ps lists what moby counts as running: running, paused, restarting', () => {
  assert.deepEqual((['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'] as const).filter(isListedWithoutAll), ['running', 'paused', 'restarting']);
});
