/**
 * Ephemeral host ports through the real docker CLI: an empty or 0 host port (`-p 80`, `-p :80`,
 * `-p 0:80`, HostPort "0" as testcontainers sends) and a host port range pick a free port that
 * inspect, `docker port` and `docker ps` show and that answers on 127.0.0.1; as in moby, the
 * port is given back at stop and picked again at start.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';
import { freeLoopbackPort } from '../helpers/ports.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc') && toolAvailable('nft') && toolAvailable('ip');

const WEB = ['sh', '-c', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'];

async function fetchText(url: string): Promise<string> {
  // The server may take a moment to listen after the container starts.
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
      return await response.text();
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** Two consecutive free ports (for a host port range). */
async function freePair(): Promise<number> {
  for (;;) {
    const port = await freeLoopbackPort();
    if (port < 65535 && (await portFree(port)) && (await portFree(port + 1))) return port;
  }
}

interface Inspected {
  State: { Status: string };
  NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> };
}

describe('ephemeral host ports through the docker CLI', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  const inspect = async (id: string) => (JSON.parse((await run('inspect', id)).stdout) as Inspected[])[0]!;
  before(async () => {
    daemon = await startBusyboxDaemon([{ tag: 'web', changes: ['CMD ["sh"]', 'EXPOSE 80'] }]);
  });
  after(async () => {
    await daemon?.cleanup();
  });

  /** The host port `docker port` shows for 80/tcp, checked against inspect, ps and a real request. */
  async function publishedPort(id: string): Promise<number> {
    const line = (await run('port', id, '80/tcp')).stdout.trim();
    const m = /^0\.0\.0\.0:(\d+)$/.exec(line);
    assert.ok(m, `docker port: ${line}`);
    const port = Number(m[1]);
    assert.ok(port > 0, 'a real port, not 0');
    assert.deepEqual((await inspect(id)).NetworkSettings.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: String(port) }]);
    assert.equal((await run('ps', '--filter', `id=${id}`, '--format', '{{.Ports}}')).stdout, `0.0.0.0:${port}->80/tcp\n`);
    assert.match(await fetchText(`http://127.0.0.1:${port}/`), /^hello from /);
    return port;
  }

  for (const spec of ['0:80', ':80', '80']) {
    test(`-p ${spec} picks a free port from the ephemeral range, shown everywhere and reachable`, async () => {
      const r = await run('run', '-d', '-p', spec, 'web', ...WEB);
      assert.equal(r.code, 0, r.stderr);
      const id = r.stdout.trim();
      try {
        const port = await publishedPort(id);
        const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];
        assert.ok(port >= low && port <= high, `${port} in ${low}-${high}`);
      } finally {
        await run('rm', '-f', id);
      }
    });
  }

  test('HostPort "0" and "" in the API body (as testcontainers and dockerode send) are ephemeral ports', async () => {
    for (const hostPort of ['0', '']) {
      const body = JSON.stringify({ Image: 'web', Cmd: WEB, ExposedPorts: { '80/tcp': {} }, HostConfig: { PortBindings: { '80/tcp': [{ HostPort: hostPort }] } } });
      const created = await daemon.request('POST', '/containers/create', { body, headers: { 'Content-Type': 'application/json' } });
      assert.equal(created.status, 201, created.body);
      const { Id: id } = JSON.parse(created.body) as { Id: string };
      try {
        assert.equal((await run('start', id)).code, 0);
        await publishedPort(id);
      } finally {
        await run('rm', '-f', id);
      }
    }
  });

  test('a host port range gives each container one free port of the range', async () => {
    const low = await freePair();
    const range = `${low}-${low + 1}:80`;
    const first = (await run('run', '-d', '-p', range, 'web', ...WEB)).stdout.trim();
    const second = await run('run', '-d', '-p', range, 'web', ...WEB);
    try {
      assert.equal(second.code, 0, second.stderr);
      const ports = [await publishedPort(first), await publishedPort(second.stdout.trim())].sort((a, b) => a - b);
      assert.deepEqual(ports, [low, low + 1]);
      const third = await run('run', '-d', '-p', range, 'web', ...WEB);
      assert.notEqual(third.code, 0, 'the range is used up');
      assert.match(third.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${low}-${low + 1} failed: port is already allocated`));
    } finally {
      await run('rm', '-f', first, second.stdout.trim());
      await run('container', 'prune', '-f');
    }
  });

  test('an ephemeral port is released at stop and picked again at start, as moby does', async () => {
    const id = (await run('run', '-d', '-p', '0:80', 'web', ...WEB)).stdout.trim();
    try {
      await publishedPort(id);
      assert.equal((await run('stop', '-t', '1', id)).code, 0);
      const stopped = await inspect(id);
      assert.equal(stopped.State.Status, 'exited');
      assert.equal((await run('port', id)).stdout, '', 'a stopped container publishes nothing');
      assert.equal((await run('start', id)).code, 0);
      await publishedPort(id);
      assert.equal((await run('restart', '-t', '1', id)).code, 0);
      await publishedPort(id);
    } finally {
      await run('rm', '-f', id);
    }
  });
});
