import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBridgeName } from './bridge-name.js';
import { InvalidArgumentError } from '../lib/errors.js';

test('bridge names the kernel and a /sys path take as they are pass', () => {
  for (const name of ['br0', 'br-0123456789ab', 'a.b', 'x_y-z', '123456789012345']) assert.doesNotThrow(() => checkBridgeName(name), name);
});

test('over 15 characters, a slash, whitespace, "." or ".." is an invalid argument that names the problem', () => {
  const cases: [string, RegExp][] = [
    ['1234567890123456', /longer than 15/],
    ['a/b', /only letters/],
    ['../eth0', /only letters/],
    ['a b', /only letters/],
    ['br\t0', /only letters/],
    ['br:0', /only letters/],
    ['..', /'\.' and '\.\.'/],
    ['.', /'\.' and '\.\.'/],
    ['a..b', /'\.' and '\.\.'/],
    ['', /empty/],
  ];
  for (const [name, message] of cases) {
    assert.throws(() => checkBridgeName(name), (err: unknown) => err instanceof InvalidArgumentError && message.test(err.message) && err.message.startsWith(`invalid bridge name "${name}"`), JSON.stringify(name));
  }
});
