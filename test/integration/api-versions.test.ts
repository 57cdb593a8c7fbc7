/** berthd answers in the shape of the API version in the path, as moby does (api/docs/CHANGELOG.md). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc');

describe('answers shaped by the requested API version', { skip: ready ? false : 'needs root, the docker CLI, conmon and runc' }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  const getJson = async (path: string) => {
    const res = await daemon.request('GET', path);
    assert.equal(res.status, 200, res.body);
    return JSON.parse(res.body) as Record<string, any>;
  };

  test('image inspect has Container and ContainerConfig up to 1.44 (docker-compose 1.29 reads them), not from 1.45', async () => {
    const v144 = await getJson('/v1.44/images/busybox/json');
    assert.equal(v144['Container'], '');
    assert.equal(v144['ContainerConfig'].Volumes, null);
    assert.equal(v144['ContainerConfig'].Hostname, '');
    assert.equal(v144['VirtualSize'], undefined);
    assert.equal(v144['Descriptor'], undefined);
    assert.equal(v144['Config'].AttachStdout, false);
    const v143 = await getJson('/v1.43/images/busybox/json');
    assert.equal(v143['VirtualSize'], v143['Size']);
    for (const path of ['/v1.50/images/busybox/json', '/images/busybox/json']) {
      const current = await getJson(path);
      assert.equal('ContainerConfig' in current, false, path);
      assert.equal('Container' in current, false, path);
      assert.equal('Hostname' in current['Config'], false, path);
      assert.deepEqual(current['Config'].Cmd, ['sh']);
      assert.match(current['Descriptor'].digest, /^sha256:/);
    }
  });

  test('image list: Descriptor from 1.48, VirtualSize below 1.44', async () => {
    const [old] = (await getJson('/v1.43/images/json')) as unknown as Record<string, unknown>[];
    assert.equal(old!['VirtualSize'], old!['Size']);
    assert.equal(old!['Descriptor'], undefined);
    const [current] = (await getJson('/v1.50/images/json')) as unknown as Record<string, any>[];
    assert.equal(current!['VirtualSize'], undefined);
    assert.match(current!['Descriptor'].digest, /^sha256:/);
  });

  test('info: BridgeNfIptables is shown below 1.50 only', async () => {
    assert.equal((await getJson('/v1.49/info'))['BridgeNfIptables'], false);
    assert.equal('BridgeNfIptables' in (await getJson('/v1.50/info')), false);
  });

  test('volume prune takes named volumes below 1.42, only anonymous ones from 1.42', async () => {
    const create = await daemon.request('POST', '/volumes/create', { body: JSON.stringify({ Name: 'named-kept' }), headers: { 'Content-Type': 'application/json' } });
    assert.equal(create.status, 201, create.body);
    const current = await daemon.request('POST', '/v1.50/volumes/prune');
    assert.equal(current.status, 200, current.body);
    assert.equal(((JSON.parse(current.body) as { VolumesDeleted: string[] | null }).VolumesDeleted ?? []).includes('named-kept'), false);
    const old = await daemon.request('POST', '/v1.41/volumes/prune');
    assert.deepEqual((JSON.parse(old.body) as { VolumesDeleted: string[] }).VolumesDeleted, ['named-kept']);
  });

  test('a non-TTY logs stream says multiplexed-stream from 1.42, raw-stream before', async () => {
    const created = await docker(daemon.host, ['create', 'busybox', 'echo', 'hi']);
    assert.equal(created.code, 0, created.stderr);
    const id = created.stdout.trim();
    try {
      const current = await daemon.request('GET', `/v1.42/containers/${id}/logs?stdout=1`);
      assert.equal(current.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
      const old = await daemon.request('GET', `/v1.41/containers/${id}/logs?stdout=1`);
      assert.equal(old.headers['content-type'], 'application/vnd.docker.raw-stream');
    } finally {
      await docker(daemon.host, ['rm', '-f', id]);
    }
  });
});
