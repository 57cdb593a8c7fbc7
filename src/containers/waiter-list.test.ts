import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitInList, type WaiterLists } from './waiter-list.js';

test('an aborted waiter leaves its list at once and rejects; the others are still woken', async () => {
  const lists: WaiterLists = new Map();
  const gone = new AbortController();
  const abandoned = waitInList(lists, 'c1', gone.signal);
  const kept = waitInList(lists, 'c1');
  assert.equal(lists.get('c1')?.length, 2);
  gone.abort(new Error('client gone'));
  await assert.rejects(abandoned, /client gone/);
  assert.equal(lists.get('c1')?.length, 1);
  for (const wake of lists.get('c1')!) wake(7);
  assert.equal(await kept, 7);
});

test('the last aborted waiter removes the container\'s key; an already aborted signal adds nothing', async () => {
  const lists: WaiterLists = new Map();
  const gone = new AbortController();
  const abandoned = waitInList(lists, 'c1', gone.signal);
  gone.abort();
  await assert.rejects(abandoned);
  assert.equal(lists.has('c1'), false);
  await assert.rejects(waitInList(lists, 'c2', gone.signal));
  assert.equal(lists.has('c2'), false);
});
