/**
 * A test whose berthd dies (SIGKILL, a killed test run) must still leave nothing of its networking
 * on the host, or the leftovers pile up until every address pool is taken. The helper's cleanup()
 * removes what the daemon's state records (its bridges, its veths), its own network namespaces and
 * its nftables table; a host bridge the daemon only borrowed stays.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';
import { ip } from '../helpers/netns.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc') && toolAvailable('nft') && toolAvailable('ip');

/** A 10.<second>.x.0/24 the host routes nowhere (test bridges live in 10.200-249). */
function freeSubnet(second: number): string {
  const routes = ip('-4', 'route', 'show');
  for (;;) {
    const third = randomInt(256);
    if (!routes.includes(`10.${second}.${third}.`)) return `10.${second}.${third}.0/24`;
  }
}

interface State {
  networks: { name: string; bridge: string }[];
  endpoints: { hostInterface: string }[];
}

describe('the test helper after its berthd was killed', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  test('cleanup() removes the bridges, veths, network namespaces and table the daemon left, and leaves a borrowed bridge', async (t) => {
    const daemon = await startBusyboxDaemon();
    t.after(() => daemon.cleanup());
    const run = (...args: string[]) => docker(daemon.host, args);
    const borrowed = `berthtst${randomBytes(3).toString('hex')}`;
    ip('link', 'add', borrowed, 'type', 'bridge');
    t.after(() => void spawnSync('ip', ['link', 'delete', borrowed], { stdio: 'ignore' }));

    for (const [name, options] of [['user', []], ['host-bridge', ['-o', `com.docker.network.bridge.name=${borrowed}`]]] as const) {
      const created = await run('network', 'create', '--subnet', freeSubnet(195), ...options, name);
      assert.equal(created.code, 0, created.stderr);
    }
    for (const network of ['user', 'host-bridge', 'bridge']) {
      const started = await run('run', '-d', '--network', network, 'busybox', 'sleep', '600');
      assert.equal(started.code, 0, started.stderr);
    }
    const state = JSON.parse(readFileSync(join(daemon.dataRoot, 'network', 'state.json'), 'utf8')) as State;
    const bridges = state.networks.filter((n) => n.bridge !== '' && n.bridge !== borrowed).map((n) => n.bridge);
    const veths = state.endpoints.map((e) => e.hostInterface);
    const prefix = `berth-${daemon.bridge}-`;
    assert.equal(bridges.length, 2, 'the default bridge and the user network\'s');
    assert.equal(veths.length, 3);
    for (const device of [...bridges, ...veths]) assert.equal(existsSync(`/sys/class/net/${device}`), true, `${device} is there while the daemon runs`);
    assert.equal(readdirSync('/run/netns').filter((n) => n.startsWith(prefix)).length, 3);

    daemon.process.kill('SIGKILL');
    await daemon.stop();
    await daemon.cleanup();

    assert.deepEqual([...bridges, ...veths].filter((device) => existsSync(`/sys/class/net/${device}`)), [], 'devices left');
    assert.deepEqual(readdirSync('/run/netns').filter((n) => n.startsWith(prefix)), [], 'network namespaces left');
    assert.equal(spawnSync('nft', ['list', 'table', 'ip', `berth_${daemon.bridge}`], { stdio: 'ignore' }).status, 1, 'nftables table left');
    assert.equal(existsSync(`/sys/class/net/${borrowed}`), true, 'a bridge the daemon did not make was removed');
  });
});
