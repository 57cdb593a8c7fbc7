import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerTimestamp, lastLines } from './log-encode.js';
import type { LogRecord } from './k8s-file.js';

const record = (text: string): LogRecord => ({ time: '2026-11-28T00:00:00.000000000Z', stream: 'stdout', text });

test('--tail counts lines, not the partial records conmon splits long lines into', () => {
  const records = [record('a1'), record('a2\n'), record('b\n'), record('c1'), record('c2\n'), record('d')];
  assert.deepEqual(lastLines(records, 0), []);
  assert.deepEqual(lastLines(records, 1).map((r) => r.text), ['d']);
  assert.deepEqual(lastLines(records, 2).map((r) => r.text), ['c1', 'c2\n', 'd']);
  assert.deepEqual(lastLines(records, 3).map((r) => r.text), ['b\n', 'c1', 'c2\n', 'd']);
  assert.deepEqual(lastLines(records, 4).map((r) => r.text), ['a1', 'a2\n', 'b\n', 'c1', 'c2\n', 'd']);
  assert.deepEqual(lastLines(records, 99).length, 6);
});

test('logs -t shows times as Docker does: UTC, nine fraction digits, Z', () => {
  assert.equal(dockerTimestamp('2026-11-28T15:11:11.764126876+00:00'), '2026-11-28T15:11:11.764126876Z');
  assert.equal(dockerTimestamp('2026-11-28T16:11:11.7641+01:00'), '2026-11-28T15:11:11.764100000Z');
  assert.equal(dockerTimestamp('2026-11-28T00:30:00-02:30'), '2026-11-28T03:00:00.000000000Z');
  assert.equal(dockerTimestamp('not a time'), 'not a time');
});
