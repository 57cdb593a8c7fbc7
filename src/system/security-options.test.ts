import { test } from 'node:test';
import assert from 'node:assert/strict';
import { securityOptionsOf } from './security-options.js';

test('SecurityOptions name the configured seccomp profile (builtin, a path, unconfined) and a private cgroupns default', () => {
  assert.deepEqual(securityOptionsOf({ seccompSupported: true, seccompProfile: 'builtin', cgroupnsPrivate: false }), ['name=seccomp,profile=builtin']);
  assert.deepEqual(securityOptionsOf({ seccompSupported: true, seccompProfile: '/etc/berth/seccomp.json', cgroupnsPrivate: true }), ['name=seccomp,profile=/etc/berth/seccomp.json', 'name=cgroupns']);
  assert.deepEqual(securityOptionsOf({ seccompSupported: true, seccompProfile: 'unconfined', cgroupnsPrivate: false }), ['name=seccomp,profile=unconfined']);
  assert.deepEqual(securityOptionsOf({ seccompSupported: false, seccompProfile: 'builtin', cgroupnsPrivate: true }), ['name=cgroupns']);
});
