import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureLimiter } from './failure-limiter.js';

const fakeClock = () => {
  const clock = { ms: 1_000_000, nowMs: () => clock.ms, nowNs: () => BigInt(clock.ms) * 1_000_000n };
  return clock;
};

test('an address is refused after maxFailures until its window ends; others are not', () => {
  const clock = fakeClock();
  const limiter = new FailureLimiter({ maxFailures: 3, windowMs: 60_000, maxKeys: 100 }, clock);
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.retryAfter('a'), 0);
    limiter.recordFailure('a');
  }
  assert.equal(limiter.retryAfter('a'), 60);
  assert.equal(limiter.retryAfter('b'), 0);
  clock.ms += 59_500;
  assert.equal(limiter.retryAfter('a'), 1);
  clock.ms += 500;
  assert.equal(limiter.retryAfter('a'), 0, 'a new window');
});

test('the limiter forgets the oldest address past maxKeys', () => {
  const limiter = new FailureLimiter({ maxFailures: 1, windowMs: 60_000, maxKeys: 2 }, fakeClock());
  for (const key of ['a', 'b', 'c']) limiter.recordFailure(key);
  assert.equal(limiter.retryAfter('a'), 0);
  assert.ok(limiter.retryAfter('b') > 0 && limiter.retryAfter('c') > 0);
});
