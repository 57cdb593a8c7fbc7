import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePortBindings } from './port-bindings.js';

test('an empty, missing or 0 host port asks for an ephemeral port', () => {
  const requests = parsePortBindings({ '80/tcp': [{ HostPort: '' }, { HostPort: '0' }, { HostIp: '127.0.0.1' }], '53/udp': null });
  assert.deepEqual(requests, [
    { protocol: 'tcp', containerPort: 80, hostIp: '', hostPortRange: [0, 0] },
    { protocol: 'tcp', containerPort: 80, hostIp: '', hostPortRange: [0, 0] },
    { protocol: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortRange: [0, 0] },
    { protocol: 'udp', containerPort: 53, hostIp: '', hostPortRange: [0, 0] },
  ]);
});

test('a host port range is kept as a range to pick one free port from', () => {
  assert.deepEqual(parsePortBindings({ '80/tcp': [{ HostPort: '8000-8010' }] })[0]?.hostPortRange, [8000, 8010]);
  assert.throws(() => parsePortBindings({ '80/tcp': [{ HostPort: '8010-8000' }] }), /invalid port range: 8010-8000/);
});

test('a host port out of range is refused with the port in the message', () => {
  assert.throws(() => parsePortBindings({ '80/tcp': [{ HostPort: '70000' }] }), /invalid host port: 70000/);
  assert.throws(() => parsePortBindings({ '80/tcp': [{ HostPort: '-1' }] }), /invalid host port/);
  assert.throws(() => parsePortBindings({ '0/tcp': [{ HostPort: '80' }] }), /invalid container port: 0/);
});
