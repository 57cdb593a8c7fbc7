import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';

const toolOnPath = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

describe('berthd Engine API: ping, version, info, errors', () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBerthd();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('GET /_ping answers OK with the headers the docker CLI reads', async () => {
    const res = await daemon.request('GET', '/_ping');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'OK');
    assert.equal(res.headers['api-version'], '1.50');
    assert.equal(res.headers['ostype'], 'linux');
    assert.equal(res.headers['docker-experimental'], 'false');
    assert.equal(res.headers['builder-version'], '1');
    assert.equal(res.headers['swarm'], 'inactive');
    assert.match(String(res.headers['cache-control']), /no-cache/);
    assert.match(String(res.headers['server']), /^Berth\/\S+ \(linux\)$/);
  });

  test('HEAD /_ping answers 200 with an empty body and the same headers', async () => {
    const res = await daemon.request('HEAD', '/_ping');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '0');
    assert.equal(res.headers['api-version'], '1.50');
  });

  test('/version with and without a version prefix', async () => {
    for (const path of ['/version', '/v1.50/version', '/v1.24/version', '/v1.44/version']) {
      const res = await daemon.request('GET', path);
      assert.equal(res.status, 200, path);
      const body = JSON.parse(res.body) as Record<string, unknown> & { Components: { Name: string; Details: Record<string, string> }[] };
      assert.equal(body['ApiVersion'], '1.50');
      assert.equal(body['MinAPIVersion'], '1.24');
      assert.equal(body['Os'], 'linux');
      assert.equal(body['KernelVersion'], os.release());
      const engine = body.Components.find((c) => c.Name === 'Engine');
      assert.ok(engine, 'an Engine component');
      assert.equal(engine.Details['ApiVersion'], '1.50');
    }
  });

  test('/version lists the OCI runtimes with the version each reports', { skip: toolOnPath('runc') ? false : 'runc is not installed' }, async () => {
    const expected = /version\s+(\S+)/.exec(execFileSync('runc', ['--version'], { encoding: 'utf8' }))![1];
    let version = '';
    // Filled in once `runc --version` answers, which berthd does not wait for before serving.
    for (let i = 0; i < 50 && version !== expected; i++) {
      const body = JSON.parse((await daemon.request('GET', '/version')).body) as { Components: { Name: string; Version: string }[] };
      version = body.Components.find((c) => c.Name === 'runc')?.Version ?? '';
      if (version !== expected) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(version, expected);
  });

  test('a version above 1.50 or below 1.24 gets 400 with moby\'s message', async () => {
    const tooNew = await daemon.request('GET', '/v1.51/version');
    assert.equal(tooNew.status, 400);
    assert.equal(tooNew.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(tooNew.body), { message: 'client version 1.51 is too new. Maximum supported API version is 1.50' });
    const tooOld = await daemon.request('GET', '/v1.23/info');
    assert.equal(tooOld.status, 400);
    assert.match(JSON.parse(tooOld.body).message, /^client version 1.23 is too old. Minimum supported API version is 1.24/);
  });

  test('an unknown route is 404 page not found as JSON', async () => {
    for (const path of ['/nope', '/v1.50/containers/abc/frobnicate']) {
      const res = await daemon.request('GET', path);
      assert.equal(res.status, 404);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(res.body), { message: 'page not found' });
    }
  });

  test('/info reports this host and this daemon', async () => {
    const res = await daemon.request('GET', '/v1.50/info');
    assert.equal(res.status, 200);
    const info = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(info['NCPU'], os.availableParallelism());
    assert.equal(info['MemTotal'], os.totalmem());
    assert.equal(info['KernelVersion'], os.release());
    assert.equal(info['Name'], os.hostname());
    assert.equal(info['DockerRootDir'], daemon.dataRoot);
    assert.equal(info['OSType'], 'linux');
    assert.equal(info['Containers'], 0);
    assert.equal(info['ContainersRunning'], 0);
    assert.equal(info['Images'], 0);
    assert.ok(['1', '2'].includes(String(info['CgroupVersion'])));
    assert.equal(info['CgroupDriver'], 'cgroupfs');
    assert.match(String(info['ID']), /^[0-9a-f-]{36}$/);
    assert.equal(typeof info['Runtimes'], 'object');
    assert.equal((info['Swarm'] as { LocalNodeState: string }).LocalNodeState, 'inactive');
  });

  test('a wrong type in a query parameter is 400 naming the parameter', async () => {
    const res = await daemon.request('GET', '/v1.50/events?since=yesterday&until=0');
    assert.equal(res.status, 400);
    assert.match(JSON.parse(res.body).message, /since/);
  });

  test('malformed filters are 400, never 500', async () => {
    const bad = await daemon.request('GET', `/events?until=1&filters=${encodeURIComponent('{not json')}`);
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /invalid filter/);
    const unknown = await daemon.request('GET', `/events?until=1&filters=${encodeURIComponent('{"colour":{"red":true}}')}`);
    assert.equal(unknown.status, 400);
    assert.equal(JSON.parse(unknown.body).message, "invalid filter 'colour'");
  });

  test('GET /events with until in the past returns at once', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await daemon.request('GET', `/v1.50/events?since=${now - 60}&until=${now}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    for (const line of res.body.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line));
  });

  test('GET /events without until flushes its headers at once and stays open', async () => {
    const started = Date.now();
    const { status, contentType, stillOpen } = await new Promise<{ status: number; contentType: string; stillOpen: boolean }>((resolve, reject) => {
      const req = request({ socketPath: daemon.socket, path: '/v1.50/events', headers: { Host: 'berth' } }, (res) => {
        setTimeout(() => {
          const stillOpen = !res.complete;
          req.destroy();
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), stillOpen });
        }, 200);
      });
      req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
      req.end();
    });
    assert.equal(status, 200);
    assert.equal(contentType, 'application/json');
    assert.ok(stillOpen, 'the stream stays open without until');
    assert.ok(Date.now() - started < 5_000);
    assert.equal((await daemon.request('GET', '/_ping')).status, 200);
  });
});
