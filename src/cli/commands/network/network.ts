/** `berth network create/ls/inspect/rm/connect/disconnect/prune`, and `berth port`. */
import { defineCommand, type Command } from '../../command.js';
import { CliError } from '../../cli-errors.js';
import { formatItems, formatOne } from '../../format/formatter.js';
import { filtersToJson } from '../../filter-flags.js';
import { forEachName } from '../../each-name.js';

interface NetworkJson {
  Name: string;
  Id: string;
  Driver: string;
  Scope: string;
  Internal: boolean;
  Created: string;
  Labels: Record<string, string>;
}

const createCommand = defineCommand({
  name: 'create',
  usage: 'berth network create [OPTIONS] NETWORK',
  summary: 'Create a network',
  flags: {
    driver: { type: 'string', short: 'd', usage: 'Driver to manage the Network', default: 'bridge' },
    subnet: { type: 'strings', usage: 'Subnet in CIDR format that represents a network segment' },
    gateway: { type: 'strings', usage: 'IPv4 or IPv6 Gateway for the master subnet' },
    'ip-range': { type: 'strings', usage: 'Allocate container ip from a sub-range' },
    internal: { type: 'bool', usage: 'Restrict external access to the network' },
    attachable: { type: 'bool', usage: 'Enable manual container attachment' },
    label: { type: 'strings', usage: 'Set metadata on a network' },
    opt: { type: 'strings', short: 'o', usage: 'Set driver specific options' },
  } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length !== 1) throw new CliError(`"berth network create" requires exactly 1 argument.\nSee 'berth network create --help'.`, 1);
    const pairs = (list: string[]) => Object.fromEntries(list.map((l) => [l.split('=')[0]!, l.split('=').slice(1).join('=')]));
    const config = flags.subnet.map((subnet, i) => ({ Subnet: subnet, ...(flags.gateway[i] ? { Gateway: flags.gateway[i] } : {}), ...(flags['ip-range'][i] ? { IPRange: flags['ip-range'][i] } : {}) }));
    const created = await ctx.client().json<{ Id: string }>('POST', '/networks/create', {
      body: { Name: positionals[0], Driver: flags.driver, Internal: flags.internal, Attachable: flags.attachable, IPAM: { Driver: 'default', Config: config }, Labels: pairs(flags.label), Options: pairs(flags.opt) },
    });
    ctx.stdout.write(`${created.Id}\n`);
    return 0;
  },
});

const listCommand = defineCommand({
  name: 'ls',
  aliases: ['list'],
  usage: 'berth network ls [OPTIONS]',
  summary: 'List networks',
  flags: {
    filter: { type: 'strings', short: 'f', usage: 'Provide filter values (e.g. "driver=bridge")' },
    format: { type: 'string', usage: 'Format output using a custom template' },
    'no-trunc': { type: 'bool', usage: 'Do not truncate the output' },
    quiet: { type: 'bool', short: 'q', usage: 'Only display network IDs' },
  } as const,
  async run({ flags }, ctx) {
    const networks = await ctx.client().json<NetworkJson[]>('GET', '/networks', { query: { filters: filtersToJson(flags.filter) } });
    const rows = [...networks].sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => ({
      ID: flags['no-trunc'] ? n.Id : n.Id.slice(0, 12),
      Name: n.Name,
      Driver: n.Driver,
      Scope: n.Scope,
      Internal: String(n.Internal),
      CreatedAt: n.Created,
      Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    }));
    ctx.stdout.write(formatItems(rows, {
      format: flags.format ?? '',
      quiet: flags.quiet,
      quietTemplate: '{{.ID}}',
      defaultTable: '{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
      headers: { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', Internal: 'INTERNAL', CreatedAt: 'CREATED', Labels: 'LABELS' },
    }));
    return 0;
  },
});

const inspectCommand = defineCommand({
  name: 'inspect',
  usage: 'berth network inspect [OPTIONS] NETWORK [NETWORK...]',
  summary: 'Display detailed information on one or more networks',
  flags: { format: { type: 'string', short: 'f', usage: 'Format output using a custom template' } } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length === 0) throw new CliError(`"berth network inspect" requires at least 1 argument.\nSee 'berth network inspect --help'.`, 1);
    const found: unknown[] = [];
    let failed = false;
    for (const name of positionals) {
      try {
        found.push(await ctx.client().json('GET', `/networks/${encodeURIComponent(name)}`));
      } catch (err) {
        failed = true;
        ctx.stderr.write(`${(err as Error).message}\n`);
      }
    }
    if (flags.format) for (const n of found) ctx.stdout.write(formatOne(n, flags.format));
    else ctx.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
    return failed ? 1 : 0;
  },
});

const removeCommand = defineCommand({
  name: 'rm',
  aliases: ['remove'],
  usage: 'berth network rm NETWORK [NETWORK...]',
  summary: 'Remove one or more networks',
  flags: { force: { type: 'bool', short: 'f', usage: 'Do not error if the network does not exist' } } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length === 0) throw new CliError(`"berth network rm" requires at least 1 argument.\nSee 'berth network rm --help'.`, 1);
    return forEachName(ctx, positionals, (name) => ctx.client().request('DELETE', `/networks/${encodeURIComponent(name)}`).then(() => undefined), { ignore404: flags.force });
  },
});

const connectCommand = defineCommand({
  name: 'connect',
  usage: 'berth network connect [OPTIONS] NETWORK CONTAINER',
  summary: 'Connect a container to a network',
  flags: {
    alias: { type: 'strings', usage: 'Add network-scoped alias for the container' },
    ip: { type: 'string', usage: 'IPv4 address (e.g., "172.30.100.104")' },
  } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length !== 2) throw new CliError(`"berth network connect" requires exactly 2 arguments.\nSee 'berth network connect --help'.`, 1);
    await ctx.client().request('POST', `/networks/${encodeURIComponent(positionals[0]!)}/connect`, {
      body: { Container: positionals[1], EndpointConfig: { Aliases: flags.alias, ...(flags.ip ? { IPAMConfig: { IPv4Address: flags.ip } } : {}) } },
    });
    return 0;
  },
});

const disconnectCommand = defineCommand({
  name: 'disconnect',
  usage: 'berth network disconnect [OPTIONS] NETWORK CONTAINER',
  summary: 'Disconnect a container from a network',
  flags: { force: { type: 'bool', short: 'f', usage: 'Force the container to disconnect from a network' } } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length !== 2) throw new CliError(`"berth network disconnect" requires exactly 2 arguments.\nSee 'berth network disconnect --help'.`, 1);
    await ctx.client().request('POST', `/networks/${encodeURIComponent(positionals[0]!)}/disconnect`, { body: { Container: positionals[1], Force: flags.force } });
    return 0;
  },
});

const pruneCommand = defineCommand({
  name: 'prune',
  usage: 'berth network prune [OPTIONS]',
  summary: 'Remove all unused networks',
  flags: {
    force: { type: 'bool', short: 'f', usage: 'Do not prompt for confirmation' },
    filter: { type: 'strings', usage: 'Provide filter values (e.g. "label=<label>")' },
  } as const,
  async run({ flags }, ctx) {
    if (!flags.force) throw new CliError('berth network prune removes every unused network: add -f to confirm (berth does not prompt)', 1);
    const result = await ctx.client().json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters: filtersToJson(flags.filter) } });
    const deleted = result.NetworksDeleted ?? [];
    if (deleted.length > 0) ctx.stdout.write(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}`);
    return 0;
  },
});

export const networkGroup: Command = {
  name: 'network',
  usage: 'berth network COMMAND',
  summary: 'Manage networks',
  flags: {},
  subcommands: [connectCommand, createCommand, disconnectCommand, inspectCommand, listCommand, pruneCommand, removeCommand],
  run: async () => 0,
};

export const portCommand = defineCommand({
  name: 'port',
  usage: 'berth port CONTAINER [PRIVATE_PORT[/PROTO]]',
  summary: 'List port mappings or a specific mapping for the container',
  flags: {},
  async run({ positionals }, ctx) {
    if (positionals.length < 1 || positionals.length > 2) throw new CliError(`"berth port" requires at least 1 and at most 2 arguments.\nSee 'berth port --help'.`, 1);
    const info = await ctx.client().json<{ NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> } }>('GET', `/containers/${encodeURIComponent(positionals[0]!)}/json`);
    const ports = info.NetworkSettings.Ports ?? {};
    if (positionals[1]) {
      const key = positionals[1].includes('/') ? positionals[1] : `${positionals[1]}/tcp`;
      const bindings = ports[key];
      if (!bindings || bindings.length === 0) throw new CliError(`Error: No public port '${key}' published for ${positionals[0]}`, 1);
      for (const b of bindings) ctx.stdout.write(`${b.HostIp}:${b.HostPort}\n`);
      return 0;
    }
    for (const [key, bindings] of Object.entries(ports)) for (const b of bindings ?? []) ctx.stdout.write(`${key} -> ${b.HostIp}:${b.HostPort}\n`);
    return 0;
  },
});
