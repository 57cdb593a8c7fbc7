import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, humanSize } from './human-units.js';
import { globMatch } from './glob.js';

test('sizes as docker prints them', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(500), '500B');
  assert.equal(humanSize(1234), '1.23kB');
  assert.equal(humanSize(2_150_000), '2.15MB');
  assert.equal(humanSize(1_000_000), '1MB');
  assert.equal(humanSize(4_261_412), '4.26MB');
  assert.equal(humanSize(77_800_000), '77.8MB');
  assert.equal(humanSize(1_500_000_000), '1.5GB');
});

test('durations as docker prints them', () => {
  assert.equal(humanDuration(200), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(45_000), '45 seconds');
  assert.equal(humanDuration(90_000), 'About a minute');
  assert.equal(humanDuration(5 * 60_000), '5 minutes');
  assert.equal(humanDuration(60 * 60_000), 'About an hour');
  assert.equal(humanDuration(3 * 3_600_000), '3 hours');
  assert.equal(humanDuration(3 * 86_400_000), '3 days');
  assert.equal(humanDuration(20 * 86_400_000), '2 weeks');
  assert.equal(humanDuration(90 * 86_400_000), '3 months');
  assert.equal(humanDuration(800 * 86_400_000), '2 years');
});

test('glob as Go path.Match', () => {
  assert.ok(globMatch('busybox*', 'busybox:latest'));
  assert.ok(globMatch('busy?ox', 'busybox'));
  assert.ok(!globMatch('*', 'team/app'));
  assert.ok(globMatch('*/*', 'team/app'));
  assert.ok(globMatch('app:[0-9]*', 'app:1.2'));
  assert.ok(!globMatch('app:[!0-9]*', 'app:1.2'));
});
