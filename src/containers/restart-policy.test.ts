import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRestartPolicy, nextDelay, shouldRestart } from './restart-policy.js';

test('on-failure restarts failures up to its count, never a clean exit or a manual stop', () => {
  const policy = { Name: 'on-failure', MaximumRetryCount: 2 };
  assert.equal(shouldRestart(policy, { code: 1, manuallyStopped: false, restartCount: 0 }), true);
  assert.equal(shouldRestart(policy, { code: 1, manuallyStopped: false, restartCount: 2 }), false);
  assert.equal(shouldRestart(policy, { code: 0, manuallyStopped: false, restartCount: 0 }), false);
  assert.equal(shouldRestart({ Name: 'always' }, { code: 0, manuallyStopped: true, restartCount: 0 }), false);
  assert.equal(shouldRestart({ Name: 'no' }, { code: 1, manuallyStopped: false, restartCount: 0 }), false);
});

test('the backoff starts at 100 ms, doubles, and resets after 10 s of running', () => {
  assert.equal(nextDelay(undefined, 5), 100);
  assert.equal(nextDelay(100, 5), 200);
  assert.equal(nextDelay(400, 5), 800);
  assert.equal(nextDelay(800, 12_000), 100);
});

test('bad policies get Docker\'s messages', () => {
  assert.throws(() => checkRestartPolicy({ Name: 'sometimes' }, false), /invalid restart policy 'sometimes'/);
  assert.throws(() => checkRestartPolicy({ Name: 'always', MaximumRetryCount: 3 }, false), /maximum retry count can only be used with 'on-failure'/);
  assert.throws(() => checkRestartPolicy({ Name: 'always' }, true), /can't create 'AutoRemove' container with restart policy/);
});
