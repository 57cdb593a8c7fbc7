import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedMutex } from './keyed-mutex.js';

test('KeyedMutex runs sections of one key one at a time, in order, and other keys alongside', async () => {
  const mutex = new KeyedMutex();
  const log: string[] = [];
  let releaseFirst!: () => void;
  const first = mutex.run('a', async () => {
    log.push('a1 start');
    await new Promise<void>((resolve) => (releaseFirst = resolve));
    log.push('a1 end');
  });
  const second = mutex.run('a', async () => {
    log.push('a2');
  });
  const other = mutex.run('b', async () => {
    log.push('b');
  });
  await other;
  assert.deepEqual(log, ['a1 start', 'b']);
  releaseFirst();
  await Promise.all([first, second]);
  assert.deepEqual(log, ['a1 start', 'b', 'a1 end', 'a2']);
});

test('KeyedMutex: a failed section does not block the next one', async () => {
  const mutex = new KeyedMutex();
  await assert.rejects(mutex.run('a', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await mutex.run('a', async () => 42), 42);
});
