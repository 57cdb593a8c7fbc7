import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import { FreezeHolds, type FreezeControl } from './freeze-holds.js';

/** A container's status and the pause/resume calls made on it, as runc would see them. */
function fakeContainer(status: string, failPause?: Error) {
  const calls: string[] = [];
  const state: { status: string | undefined } = { status };
  const control: FreezeControl = {
    statusOf: () => state.status,
    setPaused: async (id, paused) => {
      await Promise.resolve();
      if (state.status === undefined) throw new NotFoundError(`No such container: ${id}`);
      if (paused && failPause) throw failPause;
      if (paused && state.status !== 'running') throw new ConflictError(`Container ${id} is not running`);
      if (!paused && state.status !== 'paused') throw new ConflictError(`Container ${id} is not paused`);
      calls.push(paused ? 'pause' : 'resume');
      state.status = paused ? 'paused' : 'running';
    },
  };
  return { calls, state, control };
}

test('a running container is frozen while held and thawed after', async () => {
  const c = fakeContainer('running');
  const holds = new FreezeHolds(c.control);
  const release = await holds.hold('a');
  assert.equal(c.state.status, 'paused');
  await release();
  await release(); // a second release is a no-op
  assert.deepEqual(c.calls, ['pause', 'resume']);
  assert.equal(c.state.status, 'running');
});

test('overlapping copies share one freeze; the last one out thaws', async () => {
  const c = fakeContainer('running');
  const holds = new FreezeHolds(c.control);
  const [first, second] = await Promise.all([holds.hold('a'), holds.hold('a')]);
  await first();
  assert.equal(c.state.status, 'paused', 'still frozen for the second copy');
  await second();
  assert.deepEqual(c.calls, ['pause', 'resume']);
});

test('a copy that starts while the last one thaws waits and freezes anew', async () => {
  const c = fakeContainer('running');
  const holds = new FreezeHolds(c.control);
  const first = await holds.hold('a');
  const thawing = first();
  const second = await holds.hold('a');
  await thawing;
  assert.equal(c.state.status, 'paused');
  await second();
  assert.deepEqual(c.calls, ['pause', 'resume', 'pause', 'resume']);
});

test('a container its user paused stays paused; a stopped one is left alone', async () => {
  for (const status of ['paused', 'exited', 'created']) {
    const c = fakeContainer(status);
    const release = await new FreezeHolds(c.control).hold('a');
    await release();
    assert.deepEqual(c.calls, [], status);
    assert.equal(c.state.status, status);
  }
});

test('a failed pause refuses the copy and leaves nothing held', async () => {
  const c = fakeContainer('running', new Error('runc pause: no freezer'));
  const holds = new FreezeHolds(c.control);
  await assert.rejects(holds.hold('a'), /no freezer/);
  await assert.rejects(holds.hold('a'), /no freezer/, 'the next copy tries again');
  assert.deepEqual(c.calls, []);
});

test('a container unpaused or stopped during the copy needs no thaw', async () => {
  const c = fakeContainer('running');
  const release = await new FreezeHolds(c.control).hold('a');
  c.state.status = 'exited';
  await release();
  assert.deepEqual(c.calls, ['pause']);
});

test('a container removed during the copy (rm -f thaws it first) ends the copy without an error', async () => {
  const c = fakeContainer('running');
  const release = await new FreezeHolds(c.control).hold('a');
  c.state.status = undefined;
  await release();
  assert.deepEqual(c.calls, ['pause']);
});
