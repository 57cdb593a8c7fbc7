import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarReference, formatReference, parseNormalizedReference, withDefaultTag } from './reference.js';

const full = (text: string) => formatReference(withDefaultTag(parseNormalizedReference(text)));

test('normalises names as Docker does', () => {
  assert.equal(full('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(full('busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.equal(full('team/app'), 'docker.io/team/app:latest');
  assert.equal(full('localhost:5000/team/app:1.2'), 'localhost:5000/team/app:1.2');
  assert.equal(full('localhost/app'), 'localhost/app:latest');
  assert.equal(full('index.docker.io/library/busybox'), 'docker.io/library/busybox:latest');
  assert.equal(full('ghcr.io/foo/bar:1.0'), 'ghcr.io/foo/bar:1.0');
  assert.equal(full('[::1]:5000/app'), '[::1]:5000/app:latest');
  const digest = 'sha256:' + 'a'.repeat(64);
  assert.equal(full(`busybox@${digest}`), `docker.io/library/busybox@${digest}`);
  assert.equal(full(`busybox:1@${digest}`), `docker.io/library/busybox:1@${digest}`);
});

test('familiar forms drop docker.io and library/', () => {
  assert.equal(familiarReference(withDefaultTag(parseNormalizedReference('docker.io/library/busybox'))), 'busybox:latest');
  assert.equal(familiarReference(withDefaultTag(parseNormalizedReference('docker.io/team/app:2'))), 'team/app:2');
  assert.equal(familiarReference(withDefaultTag(parseNormalizedReference('localhost:5000/app'))), 'localhost:5000/app:latest');
});

test('refuses bad references with Docker\'s messages', () => {
  assert.throws(() => parseNormalizedReference('library/Busybox'), { message: 'invalid reference format: repository name (library/Busybox) must be lowercase' });
  assert.throws(() => parseNormalizedReference('Busybox:1'), { message: 'invalid reference format: repository name (library/Busybox) must be lowercase' });
  assert.throws(() => parseNormalizedReference('busy box'), { message: 'invalid reference format' });
  assert.throws(() => parseNormalizedReference('busybox:'), { message: 'invalid reference format' });
  assert.throws(() => parseNormalizedReference(':tag'), { message: 'invalid reference format' });
  assert.throws(() => parseNormalizedReference('a'.repeat(64)), /cannot specify 64-byte hexadecimal strings/);
  assert.equal(full('UPPER.io/app'), 'UPPER.io/app:latest', 'a registry host may have capitals');
});
