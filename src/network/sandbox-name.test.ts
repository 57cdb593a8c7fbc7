import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SandboxNames } from './sandbox-name.js';

const id = 'a'.repeat(64);

test('the default daemon names berth-<id>; a daemon on another bridge adds the bridge', () => {
  assert.equal(new SandboxNames('berth0').path(id), `/run/netns/berth-${id}`);
  assert.equal(new SandboxNames('bt01234567').name(id), `berth-bt01234567-${id}`);
});

test('each daemon recognises only its own namespaces', () => {
  const main = new SandboxNames('berth0');
  const other = new SandboxNames('bt01');
  const longer = new SandboxNames('bt01-x');
  assert.equal(main.containerOf(`berth-${id}`), id);
  assert.equal(main.containerOf(other.name(id)), undefined);
  assert.equal(other.containerOf(main.name(id)), undefined);
  assert.equal(other.containerOf(other.name(id)), id);
  assert.equal(other.containerOf(longer.name(id)), undefined);
  assert.equal(longer.containerOf(other.name(id)), undefined);
  assert.equal(main.containerOf('berth-test-nb-0011'), undefined);
});
