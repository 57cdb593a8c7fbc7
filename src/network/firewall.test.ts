import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTable } from './firewall.js';

const state = {
  networks: [
    { bridge: 'berth0', subnet: '172.17.0.0/16', internal: false },
    { bridge: 'br-inner', subnet: '172.18.0.0/16', internal: true },
  ],
  ports: [{ protocol: 'tcp' as const, hostIp: '127.0.0.1', hostPort: 8080, containerIp: '172.17.0.2', containerPort: 80 }],
};

/** The rules of one chain, in order. */
function chain(text: string, name: string): string[] {
  const body = text.split(`  chain ${name} {\n`)[1]!.split('\n  }')[0]!;
  return body.split('\n').map((l) => l.trim());
}

test('packets for 127.0.0.0/8 from any interface but lo are dropped before conntrack and NAT', () => {
  assert.deepEqual(chain(renderTable('berth', state), 'loopback'), ['type filter hook prerouting priority raw; policy accept;', 'iifname != "lo" ip daddr 127.0.0.0/8 drop']);
});

test('inward to a network: replies and published (DNAT) connections only; Internal networks closed both ways', () => {
  const forward = chain(renderTable('berth', state), 'forward');
  const outer = forward.filter((r) => r.includes('"berth0"') && !r.includes('"br-inner"'));
  assert.deepEqual(outer, ['iifname "berth0" accept', 'oifname "berth0" ct state established,related accept', 'oifname "berth0" ct status dnat accept', 'oifname "berth0" drop']);
  assert.deepEqual(forward.filter((r) => r.includes('"br-inner"') && !r.includes('"berth0"')), ['iifname "br-inner" oifname != "br-inner" drop', 'oifname "br-inner" iifname != "br-inner" drop']);
  // Isolation between networks comes before any accept.
  assert.ok(forward.indexOf('iifname "berth0" oifname "br-inner" drop') < forward.indexOf('iifname "berth0" accept'));
});
