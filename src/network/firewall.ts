/**
 * berth's nftables table, rendered whole from berth's state and replaced in one `nft -f`
 * transaction: no partial rule set is ever live, a crash leaves nothing stale once the next
 * change (or the start-up reconcile) re-renders it, and no other table is read or touched.
 */
import type { CommandRunner } from '../lib/command-runner.js';
import { InternalError } from '../lib/errors.js';

export interface FirewallNetwork {
  bridge: string;
  subnet: string;
  /** No traffic in or out of the network's subnet except between its own containers. */
  internal: boolean;
}

export interface FirewallPort {
  protocol: 'tcp' | 'udp';
  /** '' or 0.0.0.0 for every local address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export interface FirewallState {
  networks: FirewallNetwork[];
  ports: FirewallPort[];
}

const quote = (name: string) => `"${name.replace(/[^A-Za-z0-9_.-]/g, '')}"`;

/** The table's text (nft's own syntax), a pure function of the state. */
export function renderTable(table: string, state: FirewallState): string {
  const published = state.ports.map((p) => {
    const address = p.hostIp && p.hostIp !== '0.0.0.0' ? `ip daddr ${p.hostIp} ` : '';
    return `    ${address}${p.protocol} dport ${p.hostPort} dnat to ${p.containerIp}:${p.containerPort}`;
  });
  const postrouting: string[] = [];
  const forward: string[] = [];
  for (const n of state.networks) {
    const bridge = quote(n.bridge);
    if (!n.internal) postrouting.push(`    ip saddr ${n.subnet} oifname != ${bridge} masquerade`);
    // Published ports reached from the host's loopback, and from a container to a port published
    // by one on its own bridge (hairpin): the reply must come back through the host.
    postrouting.push(`    ip saddr 127.0.0.0/8 oifname ${bridge} masquerade`);
    postrouting.push(`    ct status dnat ip saddr ${n.subnet} oifname ${bridge} masquerade`);
    if (n.internal) {
      forward.push(`    iifname ${bridge} oifname != ${bridge} drop`);
      forward.push(`    oifname ${bridge} iifname != ${bridge} drop`);
    } else {
      // Outbound and between the network's own containers: open. Inward: only replies and
      // connections to published ports (DNAT'd); an unpublished port is not reachable from outside.
      forward.push(`    iifname ${bridge} accept`);
      forward.push(`    oifname ${bridge} ct state established,related accept`);
      forward.push(`    oifname ${bridge} ct status dnat accept`);
      forward.push(`    oifname ${bridge} drop`);
    }
  }
  // Different berth networks do not reach each other (as Docker's isolation chains).
  for (const a of state.networks) for (const b of state.networks) if (a !== b) forward.unshift(`    iifname ${quote(a.bridge)} oifname ${quote(b.bridge)} drop`);
  return [
    `table ip ${table} {`,
    // route_localnet on the bridges (so published ports answer on 127.0.0.1) would otherwise let a container or
    // a neighbour send to 127.0.0.1 and reach the host's loopback services (CVE-2020-8558). At raw
    // priority, before conntrack turns a reply to a loopback DNAT back into one for 127.0.0.1.
    '  chain loopback {',
    '    type filter hook prerouting priority raw; policy accept;',
    '    iifname != "lo" ip daddr 127.0.0.0/8 drop',
    '  }',
    '  chain published {',
    ...published,
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    '    fib daddr type local jump published',
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    '    fib daddr type local jump published',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...postrouting,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    ...forward,
    '  }',
    '}',
    '',
  ].join('\n');
}

export class Firewall {
  constructor(
    private readonly runner: CommandRunner,
    private readonly nftPath: string,
    readonly table: string,
  ) {}

  /** Replaces berth's table with the one for `state`, atomically. */
  async apply(state: FirewallState): Promise<void> {
    // "add table" first makes the delete valid when the table does not exist yet.
    await this.run(`add table ip ${this.table}\ndelete table ip ${this.table}\n${renderTable(this.table, state)}`);
  }

  /** Removes berth's table (nothing else). */
  async remove(): Promise<void> {
    await this.run(`add table ip ${this.table}\ndelete table ip ${this.table}\n`);
  }

  private async run(script: string): Promise<void> {
    const result = await this.runner.run(this.nftPath, ['-f', '-'], { input: script });
    if (result.exitCode !== 0) throw new InternalError(`nft: ${result.stderr.trim()}`);
  }
}
