import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from './event-bus.js';
import type { Clock } from '../lib/clock.js';

class ManualClock implements Clock {
  constructor(public ns: bigint) {}
  nowMs() { return Number(this.ns / 1_000_000n); }
  nowNs() { return this.ns; }
}

const container = (id: string, action: string, name = id) => ({
  Type: 'container' as const,
  Action: action,
  Actor: { ID: id, Attributes: { name, image: 'busybox:latest' } },
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

test('since/until in the past replays the remembered window and ends', async () => {
  const clock = new ManualClock(1_000n);
  const bus = new EventBus(clock);
  bus.publish(container('a', 'create'));
  clock.ns = 2_000n;
  bus.publish(container('a', 'start'));
  clock.ns = 3_000n;
  bus.publish(container('b', 'start'));
  clock.ns = 10_000n;
  const events = await collect(bus.subscribe({ since: 1_500n, until: 9_000n, filters: new Map() }));
  assert.deepEqual(events.map((e) => `${e.Actor.ID}:${e.Action}`), ['a:start', 'b:start']);
});

test('filters by type, event, container name and label', async () => {
  const clock = new ManualClock(1n);
  const bus = new EventBus(clock);
  bus.publish(container('aaa111', 'start', 'web'));
  bus.publish(container('bbb222', 'die', 'db'));
  bus.publish({ Type: 'image', Action: 'tag', Actor: { ID: 'sha256:1', Attributes: { name: 'x:1' } } });
  clock.ns = 5n;
  const window = { since: 0n, until: 4n };
  const ids = async (filters: Map<string, string[]>) => (await collect(bus.subscribe({ ...window, filters }))).map((e) => e.Actor.ID);
  assert.deepEqual(await ids(new Map([['type', ['image']]])), ['sha256:1']);
  assert.deepEqual(await ids(new Map([['event', ['die']]])), ['bbb222']);
  assert.deepEqual(await ids(new Map([['container', ['web']]])), ['aaa111']);
  assert.deepEqual(await ids(new Map([['container', ['bbb']]])), ['bbb222']);
  assert.deepEqual(await ids(new Map([['label', ['image=busybox:latest']]])), ['aaa111', 'bbb222']);
});

test('a live subscription receives new events until aborted', async () => {
  const clock = new ManualClock(1n);
  const bus = new EventBus(clock);
  const abort = new AbortController();
  const received: string[] = [];
  const done = (async () => {
    for await (const e of bus.subscribe({ filters: new Map(), signal: abort.signal })) received.push(e.Action);
  })();
  await new Promise((r) => setImmediate(r));
  bus.publish(container('a', 'start'));
  bus.publish(container('a', 'die'));
  await new Promise((r) => setImmediate(r));
  abort.abort();
  await done;
  assert.deepEqual(received, ['start', 'die']);
});

test('keeps only the most recent events', async () => {
  const clock = new ManualClock(1n);
  const bus = new EventBus(clock, 2);
  for (const action of ['a', 'b', 'c']) bus.publish(container('x', action));
  clock.ns = 2n;
  const events = await collect(bus.subscribe({ since: 0n, until: 1n, filters: new Map() }));
  assert.deepEqual(events.map((e) => e.Action), ['b', 'c']);
});
