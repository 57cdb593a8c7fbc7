import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allSettledOrThrow } from './all-settled.js';

test('the values in order; a failure is thrown only after every promise has settled', async () => {
  assert.deepEqual(await allSettledOrThrow([Promise.resolve(1), 'two', undefined] as const), [1, 'two', undefined]);
  let slowDone = false;
  const slow = new Promise<void>((resolve) => setTimeout(() => { slowDone = true; resolve(); }, 30));
  await assert.rejects(allSettledOrThrow([Promise.reject(new Error('mount failed')), slow] as const), /mount failed/);
  assert.equal(slowDone, true);
});
