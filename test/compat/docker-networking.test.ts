/**
 * Networking through the real docker CLI: the default bridge, published ports on 127.0.0.1, the
 * container's own address, none/host/container modes, and nothing left behind. Traffic goes only
 * to 127.0.0.1 and to this test daemon's containers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { berth, docker, dockerCliAvailable } from '../helpers/cli.js';
import { makeBusyboxRootfs, toolAvailable } from '../helpers/images.js';
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

function tableText(daemon: TestDaemon): string {
  return spawnSync('nft', ['list', 'table', 'ip', `berth_${daemon.bridge}`], { encoding: 'utf8' }).stdout;
}

describe('docker CLI networking on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon([{ tag: 'web', changes: ['CMD ["sh"]', 'EXPOSE 80'] }]);
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('-p HOST:80 serves the container\'s page at 127.0.0.1, with docker port and ps showing it', async () => {
    const port = await freeLoopbackPort();
    const r = await run('run', '-d', '--name', 'site', '-p', `${port}:80`, 'web', ...WEB);
    assert.equal(r.code, 0, r.stderr);
    try {
      assert.match(await fetchText(`http://127.0.0.1:${port}/`), /^hello from [0-9a-f]{12}\n$/);
      assert.equal((await run('port', 'site')).stdout, `80/tcp -> 0.0.0.0:${port}\n`);
      assert.match((await run('ps', '--format', '{{.Ports}}')).stdout, new RegExp(`^0\\.0\\.0\\.0:${port}->80/tcp\\n$`));
      // The DNAT rule is in berth's own table, once.
      assert.equal(tableText(daemon).split(`dport ${port} dnat`).length, 2);
    } finally {
      await run('rm', '-f', 'site');
    }
    assert.ok(!tableText(daemon).includes(`dport ${port} `), 'the rule goes with the container');
  });

  test('the address docker inspect shows is the one inside, and the host reaches it directly', async () => {
    const id = (await run('run', '-d', 'web', ...WEB)).stdout.trim();
    try {
      const inspect = JSON.parse((await run('inspect', id)).stdout)[0] as { NetworkSettings: { IPAddress: string; MacAddress: string; Networks: { bridge: { IPAddress: string; Gateway: string } } } };
      const address = inspect.NetworkSettings.IPAddress;
      assert.match(address, /^10\.\d+\.\d+\.\d+$/);
      assert.equal(inspect.NetworkSettings.Networks.bridge.IPAddress, address);
      const inside = await run('exec', id, 'ip', '-o', '-4', 'addr', 'show', 'eth0');
      assert.match(inside.stdout, new RegExp(`inet ${address.replace(/\./g, '\\.')}/24 `));
      assert.match((await run('exec', id, 'cat', '/sys/class/net/eth0/address')).stdout, new RegExp(`^${inspect.NetworkSettings.MacAddress}\\n$`));
      assert.match(await fetchText(`http://${address}/`), /^hello from /);
      // A second container reaches the first by its address (same bridge).
      const peer = await run('run', '--rm', 'web', 'wget', '-qO-', `http://${address}/`);
      assert.match(peer.stdout, /^hello from /, peer.stderr);
    } finally {
      await run('rm', '-f', id);
    }
  });

  test('-p 80 picks an ephemeral port and -P publishes every EXPOSEd port', async () => {
    const one = (await run('run', '-d', '-p', '80', 'web', ...WEB)).stdout.trim();
    const all = (await run('run', '-d', '-P', 'web', ...WEB)).stdout.trim();
    try {
      for (const id of [one, all]) {
        const line = (await run('port', id, '80/tcp')).stdout.trim();
        const m = /^0\.0\.0\.0:(\d+)$/.exec(line);
        assert.ok(m, `docker port: ${line}`);
        assert.match(await fetchText(`http://127.0.0.1:${m[1]}/`), /^hello from /);
      }
    } finally {
      await run('rm', '-f', one, all);
    }
  });

  test('a taken port gets Docker\'s message, and a port out of range a 400', async () => {
    const port = await freeLoopbackPort();
    const first = (await run('run', '-d', '-p', `${port}:80`, 'web', 'sleep', '30')).stdout.trim();
    try {
      const second = await run('run', '-d', '-p', `${port}:80`, 'web', 'sleep', '30');
      assert.equal(second.code, 125);
      assert.match(second.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated`));
      const range = await daemon.request('POST', '/containers/create', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Image: 'web', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '70000' }] } } }) });
      assert.equal(range.status, 400);
      assert.match(range.body, /invalid host port: 70000/);
    } finally {
      await run('rm', '-f', first);
      const leftovers = (await run('ps', '-aq')).stdout.trim();
      if (leftovers) await run('rm', '-f', ...leftovers.split('\n'));
    }
  });

  test('--network none has only lo; host sees the host\'s interfaces; container: shares one', async () => {
    const none = await run('run', '--rm', '--network', 'none', 'web', 'ls', '/sys/class/net');
    assert.equal(none.stdout, 'lo\n');
    const host = await run('run', '--rm', '--network', 'host', 'web', 'ls', '/sys/class/net');
    // Other tests add and remove veths meanwhile: compare the host's lasting interfaces.
    const lasting = (names: string[]) => names.filter((n) => !/^(veth|bt)/.test(n)).sort();
    assert.deepEqual(lasting(host.stdout.trim().split(/\s+/)), lasting(readdirSync('/sys/class/net')));
    assert.ok(lasting(readdirSync('/sys/class/net')).length > 1);
    const id = (await run('run', '-d', 'web', ...WEB)).stdout.trim();
    try {
      const shared = await run('run', '--rm', '--network', `container:${id}`, 'web', 'wget', '-qO-', 'http://127.0.0.1/');
      assert.match(shared.stdout, /^hello from /, shared.stderr);
    } finally {
      await run('rm', '-f', id);
    }
  });

  test('--add-host (with host-gateway), --dns, --dns-search and --dns-option shape /etc/hosts and resolv.conf', async () => {
    const r = await run('run', '--rm', '--add-host', 'db:10.9.8.7', '--add-host', 'gw:host-gateway', '--dns', '10.0.0.53', '--dns-search', 'example.internal', '--dns-option', 'ndots:2', 'web', 'sh', '-c', 'cat /etc/hosts /etc/resolv.conf; ip route | grep default');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^10\.9\.8\.7\tdb$/m);
    const gateway = /default via (\S+)/.exec(r.stdout)?.[1];
    assert.ok(gateway);
    assert.match(r.stdout, new RegExp(`^${gateway.replace(/\./g, '\\.')}\tgw$`, 'm'));
    assert.match(r.stdout, /^nameserver 10\.0\.0\.53$/m);
    assert.match(r.stdout, /^search example\.internal$/m);
    assert.match(r.stdout, /^options ndots:2$/m);
  });

  test('a container\'s network namespace exists while it runs, with lo up, and goes when it exits, also while berthd is away', async () => {
    const id = (await run('run', '-d', 'web', 'sh', '-c', 'sleep 1.5')).stdout.trim();
    const sandbox = `/run/netns/berth-${daemon.bridge}-${id}`; // a test daemon's own prefix
    try {
      assert.equal(existsSync(sandbox), true, 'namespace named after the container');
      assert.equal((await run('inspect', '-f', '{{.NetworkSettings.SandboxKey}}', id)).stdout, `${sandbox}\n`);
      assert.match((await run('exec', id, 'ip', '-o', 'link', 'show', 'lo')).stdout, /<LOOPBACK,UP,LOWER_UP>/);
      daemon.process.kill('SIGKILL');
      await daemon.stop();
      await new Promise((r) => setTimeout(r, 2_000)); // the container ends meanwhile
      daemon = await startBerthd({ root: daemon.root });
      assert.match((await run('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id)).stdout, /^exited 0\n$/);
      assert.equal(existsSync(sandbox), false, 'namespace removed');
      assert.deepEqual(readdirSync('/sys/class/net').filter((n) => n.startsWith(`veth${id.slice(0, 7)}`)), []);
    } finally {
      await run('rm', '-f', id);
    }
  });

  test('after SIGKILL and a restart the table is re-rendered exactly; after everything, nothing is left', async () => {
    const port = await freeLoopbackPort();
    const id = (await run('run', '-d', '-p', `${port}:80`, 'web', ...WEB)).stdout.trim();
    const before = tableText(daemon);
    daemon.process.kill('SIGKILL');
    await daemon.stop();
    const restarted = await startBerthd({ root: daemon.root });
    daemon = restarted;
    assert.equal(tableText(daemon), before);
    assert.match(await fetchText(`http://127.0.0.1:${port}/`), /^hello from /);
    assert.equal((await run('rm', '-f', id)).code, 0);
    assert.equal(await daemon.stop(), 0);
    assert.equal(existsSync(`/sys/class/net/${daemon.bridge}`), false, 'bridge removed');
    assert.equal(tableText(daemon), '', 'table removed');
    assert.deepEqual(readdirSync('/sys/class/net').filter((n) => n.startsWith(`veth${id.slice(0, 11)}`)), []);
    daemon = await startBerthd({ root: daemon.root });
  });
});

describe('docker CLI user-defined networks on berthd', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  before(async () => {
    daemon = await startBusyboxDaemon([{ tag: 'web', changes: ['CMD ["sh"]'] }]);
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('two containers on one network reach each other by name and alias; inspect lists them', async () => {
    const subnet = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 256)}.0/24`;
    const created = await run('network', 'create', '--subnet', subnet, 'appnet');
    assert.equal(created.code, 0, created.stderr);
    const netId = created.stdout.trim();
    try {
      assert.equal((await run('run', '-d', '--name', 'srv', '--network', 'appnet', '--network-alias', 'www', 'web', ...WEB)).code, 0);
      const ping = await run('run', '--rm', '--network', 'appnet', 'web', 'ping', '-c1', '-W2', 'srv');
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      let page = '';
      for (let i = 0; i < 20 && !page; i++) page = (await run('run', '--rm', '--network', 'appnet', 'web', 'wget', '-qO-', 'http://www/')).stdout;
      assert.match(page, /^hello from /);
      const inspect = JSON.parse((await run('network', 'inspect', 'appnet')).stdout)[0] as { Id: string; IPAM: { Config: { Subnet: string }[] }; Containers: Record<string, { Name: string; IPv4Address: string }> };
      assert.equal(inspect.Id, netId);
      assert.equal(inspect.IPAM.Config[0]!.Subnet, subnet);
      const entries = Object.values(inspect.Containers);
      assert.equal(entries.length, 1);
      assert.equal(entries[0]!.Name, 'srv');
      const address = (await run('inspect', '-f', '{{(index .NetworkSettings.Networks "appnet").IPAddress}}', 'srv')).stdout.trim();
      assert.equal(entries[0]!.IPv4Address, `${address}/24`);
      // In use: 409; an overlapping subnet: 400.
      const busy = await run('network', 'rm', 'appnet');
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /has active endpoints/);
      const clash = await daemon.request('POST', '/networks/create', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Name: 'clash', IPAM: { Config: [{ Subnet: subnet }] } }) });
      assert.equal(clash.status, 400);
      assert.match(clash.body, /Pool overlaps with other one on this address space/);
    } finally {
      await run('rm', '-f', 'srv');
      await run('network', 'rm', 'appnet');
    }
    assert.doesNotMatch((await run('network', 'ls', '--format', '{{.Name}}')).stdout, /appnet/);
  });

  test('connect and disconnect a running container', async () => {
    assert.equal((await run('network', 'create', 'backnet')).code, 0);
    const id = (await run('run', '-d', 'web', 'sleep', '300')).stdout.trim();
    try {
      const connect = await run('network', 'connect', '--alias', 'joiner', 'backnet', id);
      assert.equal(connect.code, 0, connect.stderr);
      assert.match((await run('exec', id, 'ls', '/sys/class/net')).stdout, /eth1/);
      const ping = await run('run', '--rm', '--network', 'backnet', 'web', 'ping', '-c1', '-W2', 'joiner');
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      assert.equal((await run('network', 'disconnect', 'backnet', id)).code, 0);
      assert.doesNotMatch((await run('exec', id, 'ls', '/sys/class/net')).stdout, /eth1/);
    } finally {
      await run('rm', '-f', id);
      await run('network', 'rm', 'backnet');
    }
  });
});

describe('berth CLI networking', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startBerthd();
    const rootfs = makeBusyboxRootfs(join(daemon.root, 'busybox.tar'));
    assert.equal((await berth(daemon.host, ['import', '-c', 'CMD ["sh"]', rootfs, 'web'])).code, 0);
  });
  after(async () => {
    await daemon?.cleanup();
  });

  test('network create/ls/inspect/rm, run --network --network-alias --ip -p, and berth port', async () => {
    const subnet = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 256)}`;
    assert.equal((await berth(daemon.host, ['network', 'create', '--subnet', `${subnet}.0/24`, 'bnet'])).code, 0);
    const port = await freeLoopbackPort();
    try {
      assert.match((await berth(daemon.host, ['network', 'ls', '--format', '{{.Name}} {{.Driver}}'])).stdout, /^bnet bridge$/m);
      const r = await berth(daemon.host, ['run', '-d', '--name', 's1', '--network', 'bnet', '--network-alias', 'svc', '--ip', `${subnet}.50`, '-p', `${port}:80`, 'web', ...WEB]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await berth(daemon.host, ['port', 's1'])).stdout, `80/tcp -> 0.0.0.0:${port}\n`);
      assert.equal((await berth(daemon.host, ['port', 's1', '80'])).stdout, `0.0.0.0:${port}\n`);
      assert.match(await fetchText(`http://127.0.0.1:${port}/`), /^hello from /);
      assert.equal((await berth(daemon.host, ['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}', 'bnet'])).stdout, `s1 ${subnet}.50/24\n`);
      let page = '';
      for (let i = 0; i < 20 && !page; i++) page = (await berth(daemon.host, ['run', '--rm', '--network', 'bnet', 'web', 'wget', '-qO-', 'http://svc/'])).stdout;
      assert.match(page, /^hello from /);
    } finally {
      await berth(daemon.host, ['rm', '-f', 's1']);
      assert.equal((await berth(daemon.host, ['network', 'rm', 'bnet'])).stdout, 'bnet\n');
    }
  });
});
