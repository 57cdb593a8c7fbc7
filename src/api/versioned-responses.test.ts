import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_API_VERSION, MIN_API_VERSION } from './api-version.js';
import { shapeForVersion, VERSIONED_CHANGES } from './versioned-responses.js';

const fullImage = () => ({
  Id: 'sha256:aa',
  RepoTags: [],
  RepoDigests: [],
  Created: '2026-01-01T00:00:00Z',
  Size: 42,
  Config: { User: '', Cmd: ['sh'], Env: null, Volumes: { '/data': {} } },
  Descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:bb', size: 1 },
  Container: '',
  ContainerConfig: undefined as unknown,
});

const shape = (path: string, version: string, body: unknown) => JSON.parse(JSON.stringify(shapeForVersion('GET', path, version, body)));

test('image inspect carries Container and ContainerConfig up to 1.44, as docker-compose 1.29 reads them', () => {
  const old = shape('/images/app/json', '1.44', fullImage());
  assert.equal(old.Container, '');
  assert.equal(old.ContainerConfig.Volumes, null);
  assert.equal(old.ContainerConfig.Hostname, '');
  assert.deepEqual(old.ContainerConfig.Cmd, null);
  const now = shape('/images/app/json', '1.45', fullImage());
  assert.equal('Container' in now, false);
  assert.equal('ContainerConfig' in now, false);
});

test('image inspect keeps a committed image its own ContainerConfig', () => {
  const image = { ...fullImage(), Container: 'c0ffee', ContainerConfig: { Cmd: ['top'] } };
  const old = shape('/images/app/json', '1.43', image);
  assert.equal(old.Container, 'c0ffee');
  assert.deepEqual(old.ContainerConfig, { Cmd: ['top'] });
});

test('image inspect: VirtualSize below 1.44, Descriptor from 1.48, container-only Config fields below 1.50', () => {
  const v143 = shape('/images/app/json', '1.43', fullImage());
  assert.equal(v143.VirtualSize, 42);
  assert.equal(v143.Descriptor, undefined);
  assert.equal(v143.Config.Hostname, '');
  assert.equal(v143.Config.AttachStdout, false);
  assert.deepEqual(v143.Config.Cmd, ['sh'], 'the image settings stay');
  const v148 = shape('/images/app/json', '1.48', fullImage());
  assert.equal(v148.VirtualSize, undefined);
  assert.equal(v148.Descriptor.digest, 'sha256:bb');
  assert.equal(v148.Config.Tty, false);
  const v150 = shape('/images/app/json', '1.50', fullImage());
  assert.equal('Hostname' in v150.Config, false);
  assert.equal('Tty' in v150.Config, false);
  assert.equal('Image' in v150.Config, false);
});

test('image inspect: a missing Created is the zero time below 1.44 and omitted from 1.44', () => {
  assert.equal(shape('/images/app/json', '1.43', { ...fullImage(), Created: '' }).Created, '0001-01-01T00:00:00Z');
  assert.equal('Created' in shape('/images/app/json', '1.44', { ...fullImage(), Created: '' }), false);
  assert.equal(shape('/images/app/json', '1.44', fullImage()).Created, '2026-01-01T00:00:00Z');
});

test('image list: <none>:<none> below 1.43, VirtualSize below 1.44, Containers -1 below 1.51', () => {
  const list = () => [{ Id: 'sha256:aa', RepoTags: [], RepoDigests: [], Size: 7, Containers: 2, Descriptor: {} }, { Id: 'sha256:cc', RepoTags: ['a:b'], RepoDigests: [], Size: 1, Containers: 0 }];
  const [untagged, tagged] = shape('/images/json', '1.42', list());
  assert.deepEqual(untagged.RepoTags, ['<none>:<none>']);
  assert.deepEqual(untagged.RepoDigests, ['<none>@<none>']);
  assert.equal(untagged.VirtualSize, 7);
  assert.equal(untagged.Containers, -1);
  assert.equal(untagged.Descriptor, undefined);
  assert.deepEqual(tagged.RepoTags, ['a:b']);
  const [current] = shape('/images/json', MAX_API_VERSION, list());
  assert.deepEqual(current.RepoTags, []);
  assert.equal(current.VirtualSize, undefined);
  assert.deepEqual(current.Descriptor, {});
});

test('info: BridgeNf* and Commit.Expected for older clients, omitted for 1.50', () => {
  const info = () => ({ RuncCommit: { ID: 'abc' }, ContainerdCommit: { ID: '' }, InitCommit: { ID: '' }, RegistryConfig: {}, Runtimes: { runc: { path: 'runc', status: {} } }, FirewallBackend: { Driver: 'nftables' } });
  const old = shape('/info', '1.43', info());
  assert.equal(old.BridgeNfIptables, false);
  assert.equal(old.BridgeNfIp6tables, false);
  assert.equal(old.RuncCommit.Expected, 'abc');
  assert.equal(old.FirewallBackend, undefined);
  assert.equal(old.RegistryConfig.AllowNondistributableArtifactsCIDRs, null);
  assert.equal(old.Runtimes.runc.status, undefined);
  const now = shape('/info', '1.50', info());
  assert.equal('BridgeNfIptables' in now, false);
  assert.equal(now.RuncCommit.Expected, undefined);
  assert.deepEqual(now.FirewallBackend, { Driver: 'nftables' });
});

test('container inspect: below 1.45 a user-defined network lists the short ID and hostname among Aliases', () => {
  const container = () => ({
    Id: '0123456789abcdef0123',
    Config: { Hostname: 'web' },
    NetworkSettings: { Networks: { bridge: { Aliases: null }, app: { Aliases: ['db'] } } },
    ImageManifestDescriptor: { digest: 'sha256:x' },
  });
  const old = shape('/containers/abc/json', '1.44', container());
  assert.deepEqual(old.NetworkSettings.Networks.app.Aliases, ['db', '0123456789ab', 'web']);
  assert.equal(old.NetworkSettings.Networks.bridge.Aliases, null);
  assert.equal(old.ImageManifestDescriptor, undefined);
  const now = shape('/containers/abc/json', '1.48', container());
  assert.deepEqual(now.NetworkSettings.Networks.app.Aliases, ['db']);
  assert.deepEqual(now.ImageManifestDescriptor, { digest: 'sha256:x' });
});

test('system df: build cache Parent below 1.42, Parents from 1.42', () => {
  const df = () => ({ Images: [{ Size: 3 }], BuildCache: [{ ID: 'x', Parent: 'p', Parents: ['p'] }] });
  const old = shape('/system/df', '1.41', df());
  assert.equal(old.BuildCache[0].Parent, 'p');
  assert.equal(old.BuildCache[0].Parents, undefined);
  assert.equal(old.Images[0].VirtualSize, 3);
  const now = shape('/system/df', '1.50', df());
  assert.equal(now.BuildCache[0].Parent, undefined);
  assert.deepEqual(now.BuildCache[0].Parents, ['p']);
});

test('other answers and non-objects pass through untouched', () => {
  const body = { Id: 'x', Containers: 3 };
  assert.deepEqual(shape('/networks/x', '1.24', body), { Id: 'x', Containers: 3 });
  assert.equal(shapeForVersion('GET', '/images/app/json', '1.24', 'text'), 'text');
  assert.equal(shapeForVersion('POST', '/images/json', '1.24', null), null);
});

test('every change is within the versions berthd speaks or the next ones, and says what it does', () => {
  for (const change of VERSIONED_CHANGES) {
    assert.ok(change.before ?? change.since, change.change);
    assert.ok(change.change.length > 10);
    const [major, minor] = change.version.split('.').map(Number);
    const [, min] = MIN_API_VERSION.split('.').map(Number);
    assert.ok(major === 1 && minor! > min!, `${change.version} is above ${MIN_API_VERSION}`);
  }
});
