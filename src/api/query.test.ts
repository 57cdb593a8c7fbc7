import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boolParam, filtersParam, intParam, timestampParam } from './query.js';
import { InvalidArgumentError } from '../lib/errors.js';

test('boolParam follows moby: only "", 0, no, false, none are false', () => {
  for (const falsy of [undefined, '', '0', 'no', 'false', 'FALSE', 'none']) assert.equal(boolParam(falsy), false, String(falsy));
  for (const truthy of ['1', 'true', 'yes', 'True', 'anything']) assert.equal(boolParam(truthy), true, truthy);
});

test('timestampParam reads seconds and nanoseconds exactly', () => {
  assert.equal(timestampParam('since', '1700000000'), 1_700_000_000_000_000_000n);
  assert.equal(timestampParam('since', '1700000000.000000123'), 1_700_000_000_000_000_123n);
  assert.equal(timestampParam('since', '1700000000.5'), 1_700_000_000_500_000_000n);
  assert.equal(timestampParam('since', ''), undefined);
  assert.throws(() => timestampParam('since', 'yesterday'), (e: unknown) => e instanceof InvalidArgumentError && /"since"/.test(e.message));
});

test('repeated parameters use the first value, as Go does; none crash', () => {
  assert.equal(timestampParam('until', ['5', 'x']), 5_000_000_000n);
  assert.equal(intParam('n', ['3', '4'], 0), 3);
  assert.equal(boolParam(['1']), true);
});

test('intParam refuses non-integers with the parameter name', () => {
  assert.equal(intParam('t', undefined, 10), 10);
  assert.throws(() => intParam('t', '1.5', 10), /"t"/);
});

test('filtersParam accepts the set form and the legacy list form', () => {
  assert.deepEqual([...filtersParam('{"type":{"container":true},"event":["start","die"]}', ['type', 'event'])], [
    ['type', ['container']],
    ['event', ['start', 'die']],
  ]);
  assert.throws(() => filtersParam('{"bogus":{"x":true}}', ['type']), /invalid filter 'bogus'/);
  assert.throws(() => filtersParam('[1,2]', ['type']), /invalid filter/);
  assert.throws(() => filtersParam('{"type":"container"}', ['type']), /invalid filter 'type'/);
});
