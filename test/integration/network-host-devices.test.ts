/**
 * A client names the bridge device of a network (`-o com.docker.network.bridge.name=X`), an
 * operator the default one (`--bridge X`): berth must never take over, delete, re-address or
 * flush a host device it did not make. A device that is not a bridge is refused with Docker's
 * message; a bridge that was there is used and given back as it was found. The devices are the
 * test's own (a veth and a bridge with random names), never the host's.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';
import { ip } from '../helpers/netns.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc') && toolAvailable('nft') && toolAvailable('ip');

/** A 10.<second>.x.0/24 the host routes nowhere (test bridges live in 10.200-249). */
function freeSubnet(second: number): { subnet: string; address: (host: number) => string } {
  const routes = ip('-4', 'route', 'show');
  for (;;) {
    const third = randomInt(256);
    if (!routes.includes(`10.${second}.${third}.`)) return { subnet: `10.${second}.${third}.0/24`, address: (host) => `10.${second}.${third}.${host}` };
  }
}

/**
 * A device of the test's own with one address, removed by the test: a bridge, or a plain link
 * (one end of a veth pair: this kernel has no dummy driver).
 */
function hostDevice(type: 'link' | 'bridge', t: { after: (fn: () => void) => void }): { name: string; cidr: string } {
  const name = `berthtst${randomBytes(3).toString('hex')}`;
  const { address } = freeSubnet(198);
  if (type === 'bridge') ip('link', 'add', name, 'type', 'bridge');
  else ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
  t.after(() => void spawnSync('ip', ['link', 'delete', name], { stdio: 'ignore' }));
  const cidr = `${address(1)}/24`;
  ip('addr', 'add', cidr, 'dev', name);
  // Up, as a host's bridge is: the kernel routes its subnet through it only then.
  if (type === 'bridge') ip('link', 'set', name, 'up');
  return { name, cidr };
}

function addressesOf(device: string): string[] {
  return ip('-4', '-o', 'addr', 'show', 'dev', device)
    .split('\n')
    .map((line) => /\sinet\s+(\S+)/.exec(line)?.[1])
    .filter((a): a is string => a !== undefined);
}

describe('host devices named as a network\'s bridge', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon();
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('a device that is not a bridge is refused with Docker\'s message, and survives with its address', async (t) => {
    const device = hostDevice('link', t);
    const created = await run('network', 'create', '--subnet', freeSubnet(197).subnet, '-o', `com.docker.network.bridge.name=${device.name}`, 'takeover');
    // Had it been taken over, its removal is where the damage would show.
    if (created.code === 0) await run('network', 'rm', 'takeover');
    assert.notEqual(created.code, 0, 'network create on a plain device succeeded');
    assert.match(created.stderr, new RegExp(`existing interface ${device.name} is not a bridge`));
    assert.equal(existsSync(`/sys/class/net/${device.name}`), true, 'the plain device was deleted');
    assert.deepEqual(addressesOf(device.name), [device.cidr]);
    assert.doesNotMatch((await run('network', 'ls', '--format', '{{.Name}}')).stdout, /takeover/);
  });

  test('a bridge that was there is used, then given back at rm with its own addresses, its interfaces and route_localnet', async (t) => {
    const bridge = hostDevice('bridge', t);
    // Someone else's interface on that bridge, named like a Docker veth.
    const theirs = `veth${randomBytes(4).toString('hex').slice(0, 7)}`;
    ip('link', 'add', theirs, 'type', 'veth', 'peer', 'name', `${theirs}p`);
    t.after(() => void spawnSync('ip', ['link', 'delete', theirs], { stdio: 'ignore' }));
    ip('link', 'set', theirs, 'master', bridge.name);
    const routeLocalnet = () => readFileSync(`/proc/sys/net/ipv4/conf/${bridge.name}/route_localnet`, 'utf8').trim();
    assert.equal(routeLocalnet(), '0');

    const { subnet, address } = freeSubnet(197);
    const created = await run('network', 'create', '--subnet', subnet, '-o', `com.docker.network.bridge.name=${bridge.name}`, 'borrowed');
    assert.equal(created.code, 0, created.stderr);
    t.after(async () => void (await run('network', 'rm', 'borrowed')));
    assert.deepEqual(addressesOf(bridge.name).sort(), [bridge.cidr, `${address(1)}/24`].sort(), 'the gateway address goes beside the bridge\'s own');

    // A container on it, removed; then a restart (its reconcile looks for leftover veths on the bridge).
    const container = await run('run', '-d', '--network', 'borrowed', 'busybox', 'sleep', '600');
    assert.equal(container.code, 0, container.stderr);
    assert.equal((await run('rm', '-f', container.stdout.trim())).code, 0);
    assert.equal(await daemon.stop(), 0);
    daemon = await startBerthd({ root: daemon.root });
    assert.equal(existsSync(`/sys/class/net/${theirs}`), true, 'an interface berth did not make was removed from the bridge');

    const removed = await run('network', 'rm', 'borrowed');
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(existsSync(`/sys/class/net/${bridge.name}`), true, 'the bridge was deleted');
    assert.deepEqual(addressesOf(bridge.name), [bridge.cidr], 'the bridge keeps its own address and loses only the gateway berth added');
    assert.equal(routeLocalnet(), '0', 'route_localnet is as it was');
    assert.equal(existsSync(`/sys/class/net/${theirs}`), true);
  });

  test('a bridge name over 15 characters, with "/", whitespace or ".." is a 400 that says so', async () => {
    for (const name of ['averyverylongname', 'a/b', 'a b', '..', '.']) {
      const r = await daemon.request('POST', '/networks/create', {
        body: JSON.stringify({ Name: `named-${randomBytes(3).toString('hex')}`, Options: { 'com.docker.network.bridge.name': name } }),
        headers: { 'Content-Type': 'application/json' },
      });
      if (r.status === 201) await daemon.request('DELETE', `/networks/${(JSON.parse(r.body) as { Id: string }).Id}`);
      assert.equal(r.status, 400, `${JSON.stringify(name)}: ${r.status} ${r.body}`);
      assert.match((JSON.parse(r.body) as { message: string }).message, new RegExp(`^invalid bridge name "${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"`));
    }
  });

  test('a bridge that already serves the subnet is used with its own address as the gateway, which stays at rm', async (t) => {
    const bridge = hostDevice('bridge', t);
    const [gateway, prefix] = bridge.cidr.split('/') as [string, string];
    const subnet = `${gateway.replace(/\.1$/, '.0')}/${prefix}`;
    const created = await run('network', 'create', '--subnet', subnet, '--gateway', gateway, '-o', `com.docker.network.bridge.name=${bridge.name}`, 'served');
    assert.equal(created.code, 0, created.stderr);
    t.after(async () => void (await run('network', 'rm', 'served')));
    assert.deepEqual(addressesOf(bridge.name), [bridge.cidr]);
    const removed = await run('network', 'rm', 'served');
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(addressesOf(bridge.name), [bridge.cidr], 'the bridge\'s own address was taken off');
  });

  test('on a bridge that serves the subnet, the host\'s other addresses there are never given to a container', async (t) => {
    const bridge = hostDevice('bridge', t);
    const [gateway, prefix] = bridge.cidr.split('/') as [string, string];
    const second = gateway.replace(/\.1$/, '.2');
    ip('addr', 'add', `${second}/${prefix}`, 'dev', bridge.name);
    const created = await run('network', 'create', '--subnet', `${gateway.replace(/\.1$/, '.0')}/${prefix}`, '--gateway', gateway, '-o', `com.docker.network.bridge.name=${bridge.name}`, 'shared');
    assert.equal(created.code, 0, created.stderr);
    t.after(async () => void (await run('network', 'rm', 'shared')));
    const taken = await run('run', '--rm', '--network', 'shared', '--ip', second, 'busybox', 'true');
    assert.notEqual(taken.code, 0, `a container got the host's ${second}`);
    assert.match(taken.stderr, new RegExp(`Address already in use: ${second.replace(/\./g, '\\.')}`));
    const inside = await run('run', '--rm', '--network', 'shared', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0');
    assert.equal(inside.code, 0, inside.stderr);
    assert.match(inside.stdout, new RegExp(`inet ${gateway.replace(/\.1$/, '.3').replace(/\./g, '\\.')}/`));
  });

  test('the subnet of a borrowed bridge\'s own address is still the host\'s: another network cannot take it', async (t) => {
    const bridge = hostDevice('bridge', t);
    const hostSubnet = `${bridge.cidr.split('/')[0]!.replace(/\.1$/, '.0')}/24`;
    const borrowed = await run('network', 'create', '--subnet', freeSubnet(197).subnet, '-o', `com.docker.network.bridge.name=${bridge.name}`, 'lender');
    assert.equal(borrowed.code, 0, borrowed.stderr);
    t.after(async () => void (await run('network', 'rm', 'lender')));
    const clash = await run('network', 'create', '--subnet', hostSubnet, 'clash');
    if (clash.code === 0) await run('network', 'rm', 'clash');
    assert.notEqual(clash.code, 0, `a network took ${hostSubnet}, which the host routes through ${bridge.name}`);
    assert.match(clash.stderr, new RegExp(`Pool overlaps with ${hostSubnet.replace(/\./g, '\\.')}, which the host routes through ${bridge.name}`));
  });

  test('a MAC address given at network connect is checked: it cannot add commands to berth\'s ip batch', async (t) => {
    const created = await run('network', 'create', '--subnet', freeSubnet(197).subnet, 'joined');
    assert.equal(created.code, 0, created.stderr);
    t.after(async () => void (await run('network', 'rm', 'joined')));
    const injected = `berth-injected-${randomBytes(4).toString('hex')}`;
    t.after(() => void spawnSync('ip', ['netns', 'delete', injected], { stdio: 'ignore' }));
    const running = await run('run', '-d', 'busybox', 'sleep', '600');
    assert.equal(running.code, 0, running.stderr);
    const idle = await run('create', 'busybox', 'true');
    assert.equal(idle.code, 0, idle.stderr);
    t.after(async () => void (await run('rm', '-f', running.stdout.trim(), idle.stdout.trim())));
    for (const container of [running.stdout.trim(), idle.stdout.trim()]) {
      const r = await daemon.request('POST', '/networks/joined/connect', {
        body: JSON.stringify({ Container: container, EndpointConfig: { MacAddress: `02:42:0a:00:00:09\nnetns add ${injected}` } }),
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(r.status, 400, r.body);
      assert.match((JSON.parse(r.body) as { message: string }).message, /^invalid MAC address 02:42:0a:00:00:09/);
    }
    // The created one would have run it at its start.
    await run('start', idle.stdout.trim());
    assert.equal(existsSync(`/run/netns/${injected}`), false, 'a command from the MAC address ran on the host');
  });

  test('a borrowed bridge replaced by another kind of device while berthd was down: berthd starts, the device is left alone, a run says why', async (t) => {
    const bridge = hostDevice('bridge', t);
    const created = await run('network', 'create', '--subnet', freeSubnet(197).subnet, '-o', `com.docker.network.bridge.name=${bridge.name}`, 'replaced');
    assert.equal(created.code, 0, created.stderr);
    t.after(async () => void (await run('network', 'rm', 'replaced')));
    assert.equal(await daemon.stop(), 0);
    ip('link', 'delete', bridge.name);
    ip('link', 'add', bridge.name, 'type', 'veth', 'peer', 'name', `${bridge.name}p`);
    ip('addr', 'add', bridge.cidr, 'dev', bridge.name);

    daemon = await startBerthd({ root: daemon.root });
    const r = await run('run', '--rm', '--network', 'replaced', 'busybox', 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`existing interface ${bridge.name} is not a bridge`));
    assert.equal(await daemon.stop(), 0);
    assert.deepEqual(addressesOf(bridge.name), [bridge.cidr], 'the device was changed');
    daemon = await startBerthd({ root: daemon.root });
  });

  test('two networks cannot share one bridge (removing one would take the other\'s)', async (t) => {
    const name = `berthtst${randomBytes(3).toString('hex')}`;
    t.after(() => void spawnSync('ip', ['link', 'delete', name], { stdio: 'ignore' }));
    const first = await run('network', 'create', '--subnet', freeSubnet(197).subnet, '-o', `com.docker.network.bridge.name=${name}`, 'first');
    assert.equal(first.code, 0, first.stderr);
    t.after(async () => void (await run('network', 'rm', 'first')));
    const second = await run('network', 'create', '--subnet', freeSubnet(196).subnet, '-o', `com.docker.network.bridge.name=${name}`, 'second');
    if (second.code === 0) await run('network', 'rm', 'second');
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /networks have same bridge name/);
    assert.equal(existsSync(`/sys/class/net/${name}`), true, 'the first network lost its bridge');
  });
});

describe('the default bridge named after a host device', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  test('berthd --bridge <a plain device> refuses to start, and the device survives with its address', async (t) => {
    const device = hostDevice('link', t);
    let started: TestDaemon | undefined;
    const failure = await startBerthd({ bridge: device.name }).then(
      async (d) => {
        started = d;
        await d.stop(); // a clean stop is where the damage would show
        return undefined;
      },
      (err: Error) => err,
    );
    await started?.cleanup();
    assert.ok(failure, 'berthd started on a plain device as its bridge');
    assert.match(failure.message, new RegExp(`existing interface ${device.name} is not a bridge`));
    assert.equal(existsSync(`/sys/class/net/${device.name}`), true, 'the plain device was deleted');
    assert.deepEqual(addressesOf(device.name), [device.cidr]);
  });
});
