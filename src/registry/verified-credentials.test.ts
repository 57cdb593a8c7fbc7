import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifiedCredentials } from './verified-credentials.js';

const fakeClock = () => {
  const clock = { ms: 1_000_000, nowMs: () => clock.ms, nowNs: () => BigInt(clock.ms) * 1_000_000n };
  return clock;
};

test('verified credentials expire after their TTL and the least recently used leave first', () => {
  const clock = fakeClock();
  const cache = new VerifiedCredentials(2, 1000, clock);
  cache.add('alice', 'pw');
  cache.add('bob', 'pw');
  assert.equal(cache.has('alice', 'pw'), true);
  assert.equal(cache.has('alice', 'other'), false);
  cache.add('carol', 'pw'); // bob is now the least recently used
  assert.equal(cache.has('bob', 'pw'), false);
  assert.equal(cache.has('carol', 'pw'), true);
  clock.ms += 1000;
  assert.equal(cache.has('alice', 'pw'), false, 'expired');
});
