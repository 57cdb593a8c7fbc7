/**
 * What a container or a machine next to the host must not reach through berth's networking: the
 * host's loopback services (CVE-2020-8558: route_localnet on the bridge), and container ports that
 * were not published. The "neighbour" and the "outside" host are network namespaces this test
 * makes; traffic goes only to 127.0.0.0/8, to their addresses and to this test's containers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { randomInt } from 'node:crypto';
import type { TestDaemon } from '../helpers/berthd.js';
import { startBusyboxDaemon } from '../helpers/busybox-daemon.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { toolAvailable } from '../helpers/images.js';
import { freeLoopbackPort } from '../helpers/ports.js';
import { connectFrom, dnsQueryFrom, ip, ipIn, makeNamespace, sysctlIn, type TestNamespace } from '../helpers/netns.js';
import { randomBytes } from 'node:crypto';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc') && toolAvailable('nft') && toolAvailable('ip');

/** httpd on 80 (the port the test publishes) and on 81 (never published). */
const TWO_SERVERS = ['sh', '-c', 'mkdir -p /www && echo "hello" > /www/index.html && httpd -p 81 -h /www && exec httpd -f -p 80 -h /www'];
const GET = 'GET / HTTP/1.0\r\n\r\n';

function addOf(subnet: string, offset: number): string {
  const [base, prefix] = subnet.split('/');
  const n = base!.split('.').reduce((a, b) => a * 256 + Number(b), 0) + offset;
  return `${[24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.')}/${prefix}`;
}

/** A subnet the host routes nowhere, in 10.<second>.x.0/24 (not 10.200-249, where test bridges live). */
function freeSubnet(second: number): string {
  const routes = ip('-4', 'route', 'show');
  for (;;) {
    const third = randomInt(256);
    if (!routes.includes(`10.${second}.${third}.`)) return `10.${second}.${third}.0/24`;
  }
}

/** A /30 for the "outside" link. */
function freeLinkSubnet(): string {
  return addOf(freeSubnet(199), randomInt(64) * 4);
}

/** A namespace routed to everything through this host over a link of its own; returns the host's address on it. */
function outsideHost(namespaces: TestNamespace[]): { outside: TestNamespace; hostAddress: string } {
  const outside = makeNamespace('out');
  namespaces.push(outside);
  const link = freeLinkSubnet();
  const hostAddress = addOf(link, 1);
  ip('addr', 'add', hostAddress, 'dev', outside.hostSide);
  ip('link', 'set', outside.hostSide, 'up');
  ipIn(outside, 'addr', 'add', addOf(link, 2), 'dev', outside.inside);
  ipIn(outside, 'link', 'set', outside.inside, 'up');
  ipIn(outside, 'route', 'add', 'default', 'via', hostAddress.split('/')[0]!);
  return { outside, hostAddress: hostAddress.split('/')[0]! };
}

describe('network isolation of the host and of unpublished ports', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc, nft and ip' }, () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => docker(daemon.host, args);
  const namespaces: TestNamespace[] = [];
  before(async () => {
    daemon = await startBusyboxDaemon([{ tag: 'web', changes: ['CMD ["sh"]'] }]);
  });
  after(async () => {
    for (const n of namespaces) n.remove();
    await daemon?.cleanup();
  });

  async function webContainer(name: string, publish: string[] = []): Promise<string> {
    const r = await run('run', '-d', '--name', name, ...publish, 'web', ...TWO_SERVERS);
    assert.equal(r.code, 0, r.stderr);
    return (await run('inspect', '-f', '{{.NetworkSettings.IPAddress}}', name)).stdout.trim();
  }

  /** Waits until httpd answers on address:port from inside the namespace (the container may still be starting). */
  async function reachable(from: TestNamespace, address: string, port: number): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const reply = await connectFrom(from, address, port, { payload: GET });
      if (reply.startsWith('DATA "HTTP/1.') || attempt >= 20) return reply;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test('a neighbour on the bridge cannot reach a service on the host\'s 127.0.0.1 (CVE-2020-8558)', async (t) => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections++;
      socket.on('error', () => undefined);
      socket.end('secret\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    t.after(() => server.close());
    const { port } = server.address() as { port: number };
    const containerIp = await webContainer('loopback-target');
    t.after(async () => void (await run('rm', '-f', 'loopback-target')));
    const [subnet, gateway] = (await run('network', 'inspect', 'bridge', '-f', '{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}')).stdout.trim().split(' ') as [string, string];

    // A machine on the bridge's segment (what a container with CAP_NET_RAW can act as), with a
    // route that sends 127.0.0.1 to the host: its own loopback stays down.
    const neighbour = makeNamespace('nb');
    namespaces.push(neighbour);
    ip('link', 'set', neighbour.hostSide, 'master', daemon.bridge, 'up');
    ipIn(neighbour, 'addr', 'add', addOf(subnet, 250), 'dev', neighbour.inside);
    ipIn(neighbour, 'link', 'set', neighbour.inside, 'up');
    ipIn(neighbour, 'route', 'add', '127.0.0.0/8', 'via', gateway, 'dev', neighbour.inside);
    sysctlIn(neighbour, `net.ipv4.conf.${neighbour.inside}.route_localnet`, '1');

    // The path to the bridge works (the container answers)...
    assert.match(await reachable(neighbour, containerIp, 80), /^DATA "HTTP\/1\.[01] 200/);
    // ...but not to the host's loopback.
    assert.equal(await connectFrom(neighbour, '127.0.0.1', port, { waitMs: 2000 }), 'NO CONNECTION');
    assert.equal(connections, 0);
  });

  test('from outside, a published port answers and an unpublished one of the same container does not', async (t) => {
    const hostPort = await freeLoopbackPort();
    const containerIp = await webContainer('published', ['-p', `${hostPort}:80`]);
    t.after(async () => void (await run('rm', '-f', 'published')));

    // A host routed to the containers through this host, over a link of its own.
    const { outside, hostAddress } = outsideHost(namespaces);
    assert.match(await reachable(outside, hostAddress, hostPort), /^DATA "HTTP\/1\.[01] 200/);
    assert.equal(await connectFrom(outside, containerIp, 81, { payload: GET, waitMs: 2000 }), 'NO CONNECTION');
    // The host itself still reaches the published port on its loopback (DNAT in output, masquerade).
    assert.equal(await (await fetch(`http://127.0.0.1:${hostPort}/`, { signal: AbortSignal.timeout(5000) })).text(), 'hello\n');
  });

  test('a network\'s embedded DNS answers its own containers, not a host routed to its gateway from outside', async (t) => {
    const subnet = freeSubnet(198);
    const bridge = `bs${randomBytes(4).toString('hex')}`;
    const created = await run('network', 'create', '--subnet', subnet, '-o', `com.docker.network.bridge.name=${bridge}`, 'dnsnet');
    assert.equal(created.code, 0, created.stderr);
    t.after(async () => void (await run('network', 'rm', 'dnsnet')));
    assert.equal((await run('run', '-d', '--name', 'named', '--network', 'dnsnet', 'web', 'sleep', '600')).code, 0);
    t.after(async () => void (await run('rm', '-f', 'named')));
    const gateway = addOf(subnet, 1).split('/')[0]!;

    // On the network's segment: answered.
    const member = makeNamespace('dm');
    namespaces.push(member);
    ip('link', 'set', member.hostSide, 'master', bridge, 'up');
    ipIn(member, 'addr', 'add', addOf(subnet, 250), 'dev', member.inside);
    ipIn(member, 'link', 'set', member.inside, 'up');
    assert.equal(await dnsQueryFrom(member, gateway, 'named'), 'RCODE 0 ANSWERS 1');

    // From outside, through the host, to the same address: no answer.
    const { outside } = outsideHost(namespaces);
    assert.equal(await dnsQueryFrom(outside, gateway, 'named'), 'NO ANSWER');
  });
});
