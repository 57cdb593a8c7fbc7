/** `berth create` and `berth run`: docker's flags into a create request, then start (and attach). */
import { parseByteSize } from '../../../lib/human-units.js';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { defineCommand, type CliContext } from '../../command.js';
import { CliError, DaemonError } from '../../cli-errors.js';
import { openAttachSession } from '../../attach-session.js';
import { proxySignals } from '../../signal-proxy.js';
import { displayProgress } from '../../progress-display.js';
import { loadCredentials, registryAuthHeader } from '../../docker-config.js';
import { familiarReference, parseNormalizedReference, withDefaultTag } from '../../../images/reference.js';
import type { ParsedFlags } from '../../../lib/flag-parser.js';

export const createFlags = {
  name: { type: 'string', usage: 'Assign a name to the container' },
  env: { type: 'strings', short: 'e', usage: 'Set environment variables' },
  'env-file': { type: 'strings', usage: 'Read in a file of environment variables' },
  workdir: { type: 'string', short: 'w', usage: 'Working directory inside the container' },
  user: { type: 'string', short: 'u', usage: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  hostname: { type: 'string', short: 'h', usage: 'Container host name' },
  domainname: { type: 'string', usage: 'Container NIS domain name' },
  label: { type: 'strings', short: 'l', usage: 'Set meta data on a container' },
  entrypoint: { type: 'string', usage: 'Overwrite the default ENTRYPOINT of the image' },
  privileged: { type: 'bool', usage: 'Give extended privileges to this container' },
  'cap-add': { type: 'strings', usage: 'Add Linux capabilities' },
  'cap-drop': { type: 'strings', usage: 'Drop Linux capabilities' },
  'read-only': { type: 'bool', usage: "Mount the container's root filesystem as read only" },
  'security-opt': { type: 'strings', usage: 'Security Options' },
  'group-add': { type: 'strings', usage: 'Add additional groups to join' },
  'stop-signal': { type: 'string', usage: 'Signal to stop the container' },
  'stop-timeout': { type: 'int', usage: 'Timeout (in seconds) to stop a container' },
  runtime: { type: 'string', usage: 'Runtime to use for this container' },
  'detach-keys': { type: 'string', usage: 'Override the key sequence for detaching a container' },
  'sig-proxy': { type: 'bool', usage: 'Proxy received signals to the process', default: true },
  rm: { type: 'bool', usage: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  interactive: { type: 'bool', short: 'i', usage: 'Keep STDIN open even if not attached' },
  tty: { type: 'bool', short: 't', usage: 'Allocate a pseudo-TTY' },
  publish: { type: 'strings', short: 'p', usage: "Publish a container's port(s) to the host" },
  'publish-all': { type: 'bool', short: 'P', usage: 'Publish all exposed ports to random ports' },
  volume: { type: 'strings', short: 'v', usage: 'Bind mount a volume' },
  mount: { type: 'strings', usage: 'Attach a filesystem mount to the container' },
  device: { type: 'strings', usage: 'Add a host device to the container' },
  'log-driver': { type: 'string', usage: 'Logging driver for the container' },
  'health-cmd': { type: 'string', usage: 'Command to run to check health' },
  'health-interval': { type: 'string', usage: 'Time between running the check (ms|s|m|h) (default 0s)' },
  'health-timeout': { type: 'string', usage: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  'health-retries': { type: 'int', usage: 'Consecutive failures needed to report unhealthy' },
  'health-start-period': { type: 'string', usage: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  'health-start-interval': { type: 'string', usage: 'Time between running the check during the start period (ms|s|m|h) (default 0s)' },
  'no-healthcheck': { type: 'bool', usage: 'Disable any container-specified HEALTHCHECK' },
  'log-opt': { type: 'strings', usage: 'Log driver options' },
  'mac-address': { type: 'string', usage: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  'volumes-from': { type: 'strings', usage: 'Mount volumes from the specified container(s)' },
  memory: { type: 'string', short: 'm', usage: 'Memory limit' },
  cpus: { type: 'string', usage: 'Number of CPUs' },
  'pids-limit': { type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
  restart: { type: 'string', usage: 'Restart policy to apply when a container exits', default: 'no' },
  network: { type: 'string', usage: 'Connect a container to a network', default: 'default' },
  'network-alias': { type: 'strings', usage: 'Add network-scoped alias for the container' },
  ip: { type: 'string', usage: 'IPv4 address (e.g., 172.30.100.104)' },
  'add-host': { type: 'strings', usage: 'Add a custom host-to-IP mapping (host:ip)' },
  dns: { type: 'strings', usage: 'Set custom DNS servers' },
  'dns-search': { type: 'strings', usage: 'Set custom DNS search domains' },
  'dns-option': { type: 'strings', usage: 'Set DNS options' },
  pid: { type: 'string', usage: 'PID namespace to use' },
  ipc: { type: 'string', usage: 'IPC mode to use' },
  uts: { type: 'string', usage: 'UTS namespace to use' },
  sysctl: { type: 'strings', usage: 'Sysctl options' },
  init: { type: 'bool', usage: 'Run an init inside the container' },
  tmpfs: { type: 'strings', usage: 'Mount a tmpfs directory' },
  ulimit: { type: 'strings', usage: 'Ulimit options (name=soft[:hard])' },
  pull: { type: 'string', usage: 'Pull image before creating ("always", "missing", "never")', default: 'missing' },
  platform: { type: 'string', usage: 'Set platform if server is multi-platform capable' },
} as const;

type CreateFlags = ParsedFlags<typeof createFlags>['flags'];

function parseEnvFile(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => (l.includes('=') ? l : `${l}=${process.env[l] ?? ''}`));
}

/** As the docker CLI: a seccomp profile file is read here, on the client, and sent as compact JSON. */
function securityOptsOf(options: string[]): string[] {
  return options.map((option) => {
    const match = /^seccomp[=:](.*)$/s.exec(option);
    if (!match || match[1] === 'unconfined' || match[1] === 'builtin') return option;
    let text: string;
    try {
      text = readFileSync(match[1]!, 'utf8');
    } catch (err) {
      throw new CliError(`opening seccomp profile (${match[1]}) failed: ${(err as Error).message}`, 125);
    }
    try {
      return `seccomp=${JSON.stringify(JSON.parse(text))}`;
    } catch (err) {
      throw new CliError(`compacting json for seccomp profile (${match[1]}) failed: ${(err as Error).message}`, 125);
    }
  });
}

function createBody(flags: CreateFlags, image: string, command: string[], detach: boolean): Record<string, unknown> {
  const env = [...flags['env-file'].flatMap(parseEnvFile), ...flags.env.map((e) => (e.includes('=') ? e : process.env[e] !== undefined ? `${e}=${process.env[e]}` : e))];
  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const spec of flags.publish) {
    const parts = spec.split(':');
    const container = parts.pop()!;
    const key = container.includes('/') ? container : `${container}/tcp`;
    (portBindings[key] ??= []).push({ HostIp: parts.length === 2 ? parts[0]! : '', HostPort: parts[parts.length - 1] ?? '' });
  }
  return {
    Hostname: flags.hostname,
    ...(flags.domainname ? { Domainname: flags.domainname } : {}),
    User: flags.user,
    AttachStdin: flags.interactive && !detach,
    AttachStdout: !detach,
    AttachStderr: !detach,
    Tty: flags.tty,
    OpenStdin: flags.interactive,
    StdinOnce: flags.interactive && !detach,
    Env: env,
    Cmd: command.length ? command : null,
    Image: image,
    WorkingDir: flags.workdir,
    Entrypoint: flags.entrypoint ? [flags.entrypoint] : null,
    Labels: Object.fromEntries(flags.label.map((l) => [l.split('=')[0]!, l.split('=').slice(1).join('=')])),
    ...(flags['stop-signal'] ? { StopSignal: flags['stop-signal'] } : {}),
    ...healthcheckOf(flags),
    ...(flags['stop-timeout'] ? { StopTimeout: flags['stop-timeout'] } : {}),
    NetworkingConfig: {
      EndpointsConfig: {
        [flags.network]: {
          ...(flags['network-alias'].length > 0 ? { Aliases: flags['network-alias'] } : {}),
          ...(flags.ip ? { IPAMConfig: { IPv4Address: flags.ip } } : {}),
          ...(flags['mac-address'] ? { MacAddress: flags['mac-address'] } : {}),
        },
      },
    },
    HostConfig: {
      AutoRemove: flags.rm,
      Privileged: flags.privileged,
      CapAdd: flags['cap-add'],
      CapDrop: flags['cap-drop'],
      ReadonlyRootfs: flags['read-only'],
      SecurityOpt: securityOptsOf(flags['security-opt']),
      GroupAdd: flags['group-add'],
      Runtime: flags.runtime,
      NetworkMode: flags.network,
      ExtraHosts: flags['add-host'].map((h) => h.replace(/^([^:=]+)=/, '$1:')),
      Dns: flags.dns,
      DnsSearch: flags['dns-search'],
      DnsOptions: flags['dns-option'],
      ...(flags.pid ? { PidMode: flags.pid } : {}),
      ...(flags.ipc ? { IpcMode: flags.ipc } : {}),
      ...(flags.uts ? { UTSMode: flags.uts } : {}),
      ...(flags.sysctl.length > 0 ? { Sysctls: Object.fromEntries(flags.sysctl.map(parseSysctl)) } : {}),
      RestartPolicy: { Name: flags.restart.split(':')[0], MaximumRetryCount: Number(flags.restart.split(':')[1] ?? 0) },
      PortBindings: portBindings,
      PublishAllPorts: flags['publish-all'],
      Binds: flags.volume.map(absoluteBindSource),
      Mounts: flags.mount.map(parseMountFlag),
      VolumesFrom: flags['volumes-from'],
      LogConfig: { Type: flags['log-driver'], Config: Object.fromEntries(flags['log-opt'].map((o) => [o.split('=')[0]!, o.split('=').slice(1).join('=')])) },
      Devices: flags.device.map((spec) => {
        const [host = '', inContainer, permissions] = spec.split(':');
        // host:container:perms, host:perms or host, as the docker CLI reads them.
        if (inContainer !== undefined && /^[rwm]+$/.test(inContainer) && permissions === undefined) return { PathOnHost: host, PathInContainer: host, CgroupPermissions: inContainer };
        return { PathOnHost: host, PathInContainer: inContainer || host, CgroupPermissions: permissions || 'rwm' };
      }),
      Memory: flags.memory ? parseBytes(flags.memory) : 0,
      NanoCpus: flags.cpus ? Math.round(Number(flags.cpus) * 1e9) : 0,
      PidsLimit: flags['pids-limit'] || null,
      Init: flags.init || null,
      Tmpfs: Object.fromEntries(flags.tmpfs.map((t) => [t.split(':')[0]!, t.split(':').slice(1).join(':')])),
      Ulimits: flags.ulimit.map(parseUlimit),
    },
  };
}

/** Go durations as docker's health flags take them ("1m30s", "500ms"), in nanoseconds. */
function durationNs(text: string, flag: string): number {
  if (text === '' || text === '0') return 0;
  const units: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g, (_, n: string, unit: string) => {
    total += Number(n) * units[unit]!;
    return '';
  });
  if (rest !== '') throw new CliError(`invalid argument "${text}" for "--${flag}" flag: time: invalid duration "${text}"`, 125);
  return Math.round(total);
}

function healthcheckOf(flags: CreateFlags): { Healthcheck?: Record<string, unknown> } {
  if (flags['no-healthcheck']) {
    if (flags['health-cmd']) throw new CliError('--no-healthcheck conflicts with --health-* options', 125);
    return { Healthcheck: { Test: ['NONE'] } };
  }
  const any = flags['health-cmd'] || flags['health-interval'] || flags['health-timeout'] || flags['health-retries'] || flags['health-start-period'] || flags['health-start-interval'];
  if (!any) return {};
  return {
    Healthcheck: {
      ...(flags['health-cmd'] ? { Test: ['CMD-SHELL', flags['health-cmd']] } : {}),
      Interval: durationNs(flags['health-interval'], 'health-interval'),
      Timeout: durationNs(flags['health-timeout'], 'health-timeout'),
      StartPeriod: durationNs(flags['health-start-period'], 'health-start-period'),
      StartInterval: durationNs(flags['health-start-interval'], 'health-start-interval'),
      Retries: flags['health-retries'],
    },
  };
}

/** As the docker CLI: a -v source starting with "." or "~" is a host path, made absolute here. */
function absoluteBindSource(spec: string): string {
  const [source = '', ...rest] = spec.split(':');
  if (rest.length === 0 || !(source.startsWith('.') || source.startsWith('~'))) return spec;
  const absolute = source.startsWith('~') ? `${process.env['HOME'] ?? ''}${source.slice(1)}` : resolvePath(source);
  return [absolute, ...rest].join(':');
}

const MOUNT_KEYS = ['type', 'source', 'src', 'target', 'destination', 'dst', 'readonly', 'ro', 'volume-nocopy', 'volume-opt', 'volume-label', 'volume-driver', 'bind-propagation', 'tmpfs-size', 'tmpfs-mode', 'consistency'];

/** --mount type=volume,source=data,target=/data,readonly ... into an API Mount. */
function parseMountFlag(text: string): Record<string, unknown> {
  const mount: Record<string, unknown> = { Type: 'volume' };
  const volumeOptions: Record<string, unknown> = {};
  const driverOptions: Record<string, string> = {};
  const labels: Record<string, string> = {};
  for (const field of text.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq === -1 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq === -1 ? '' : field.slice(eq + 1);
    if (!MOUNT_KEYS.includes(key)) throw new CliError(`invalid argument "${text}" for "--mount" flag: unexpected key '${key}' in '${field}'`, 125);
    const truthy = eq === -1 || value === 'true' || value === '1';
    switch (key) {
      case 'type': mount['Type'] = value; break;
      case 'source': case 'src': mount['Source'] = value; break;
      case 'target': case 'destination': case 'dst': mount['Target'] = value; break;
      case 'readonly': case 'ro': mount['ReadOnly'] = truthy; break;
      case 'volume-nocopy': volumeOptions['NoCopy'] = truthy; break;
      case 'volume-opt': driverOptions[value.split('=')[0]!] = value.split('=').slice(1).join('='); break;
      case 'volume-label': labels[value.split('=')[0]!] = value.split('=').slice(1).join('='); break;
      case 'volume-driver': volumeOptions['DriverConfig'] = { ...(volumeOptions['DriverConfig'] as object), Name: value }; break;
      case 'bind-propagation': mount['BindOptions'] = { Propagation: value }; break;
      case 'tmpfs-size': mount['TmpfsOptions'] = { ...(mount['TmpfsOptions'] as object), SizeBytes: parseBytes(value) }; break;
      case 'tmpfs-mode': mount['TmpfsOptions'] = { ...(mount['TmpfsOptions'] as object), Mode: parseInt(value, 8) }; break;
      default: break;
    }
  }
  if (Object.keys(driverOptions).length > 0) volumeOptions['DriverConfig'] = { ...(volumeOptions['DriverConfig'] as object), Options: driverOptions };
  if (Object.keys(labels).length > 0) volumeOptions['Labels'] = labels;
  if (Object.keys(volumeOptions).length > 0) {
    if (mount['Type'] !== 'volume') throw new CliError(`invalid argument "${text}" for "--mount" flag: cannot mix 'volume-*' options with mount type '${String(mount['Type'])}'`, 125);
    mount['VolumeOptions'] = volumeOptions;
  }
  return mount;
}

function parseSysctl(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliError(`invalid argument "${text}" for "--sysctl" flag: sysctl '${text}' is not allowed`, 125);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function parseUlimit(text: string): { Name: string; Soft: number; Hard: number } {
  const match = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text);
  if (!match) throw new CliError(`invalid argument "${text}" for "--ulimit" flag: invalid ulimit argument: ${text}`, 125);
  return { Name: match[1]!, Soft: Number(match[2]), Hard: Number(match[3] ?? match[2]) };
}

function parseBytes(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new CliError(`invalid size: '${text}'`, 125);
  return bytes;
}

/** Creates the container, pulling the image first when it is missing (as docker does). */
export async function createContainer(ctx: CliContext, flags: CreateFlags, image: string, command: string[], detach: boolean): Promise<string> {
  const client = ctx.client();
  const body = createBody(flags, image, command, detach);
  const create = () => client.json<{ Id: string; Warnings: string[] | null }>('POST', '/containers/create', { query: { name: flags.name || undefined }, body });
  try {
    const created = await create();
    for (const warning of created.Warnings ?? []) ctx.stderr.write(`WARNING: ${warning}\n`);
    return created.Id;
  } catch (err) {
    if (!(err instanceof DaemonError) || err.status !== 404 || flags.pull === 'never') throw err;
    const ref = withDefaultTag(parseNormalizedReference(image));
    ctx.stderr.write(`Unable to find image '${familiarReference(ref)}' locally\n`);
    const response = await client.request('POST', '/images/create', {
      query: { fromImage: familiarReference({ ...ref, tag: undefined, digest: undefined }), tag: ref.digest ?? ref.tag },
      headers: { 'X-Registry-Auth': registryAuthHeader(loadCredentials(process.env, ref.domain)) },
    });
    await displayProgress(client, response, ctx.stderr);
    return (await create()).Id;
  }
}

/** docker run's exit codes for failures before the container's own code exists. */
function runError(err: unknown): never {
  if (err instanceof CliError) throw err;
  const message = err instanceof DaemonError ? `docker: Error response from daemon: ${err.message}` : `docker: ${(err as Error).message}`;
  const text = message.replace(/^docker:/, 'berth:');
  if (/executable file not found|no such file or directory/.test(message)) throw new CliError(text, 127);
  if (/permission denied/.test(message)) throw new CliError(text, 126);
  throw new CliError(`${text}\n\nRun 'berth run --help' for more information`, 125);
}

export const createCommand = defineCommand({
  name: 'create',
  usage: 'berth create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create a new container',
  flags: createFlags,
  interspersed: false,
  async run({ flags, positionals }, ctx) {
    const [image, ...command] = positionals;
    if (!image) throw new CliError(`"berth create" requires at least 1 argument.\nSee 'berth create --help'.`, 125);
    try {
      ctx.stdout.write(`${await createContainer(ctx, flags, image, command, true)}\n`);
    } catch (err) {
      runError(err);
    }
    return 0;
  },
});

export const runCommand = defineCommand({
  name: 'run',
  usage: 'berth run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create and run a new container from an image',
  flags: { ...createFlags, detach: { type: 'bool', short: 'd', usage: 'Run container in background and print container ID' } },
  interspersed: false,
  async run({ flags, positionals }, ctx) {
    const [image, ...command] = positionals;
    if (!image) throw new CliError(`"berth run" requires at least 1 argument.\nSee 'berth run --help'.`, 125);
    const client = ctx.client();
    let id: string;
    try {
      id = await createContainer(ctx, flags, image, command, flags.detach);
    } catch (err) {
      runError(err);
    }
    if (flags.detach) {
      try {
        await client.request('POST', `/containers/${id}/start`);
      } catch (err) {
        runError(err);
      }
      ctx.stdout.write(`${id}\n`);
      return 0;
    }
    // As docker: attach and wait before start, so no output and no exit is missed.
    const session = await openAttachSession(client, id, ctx, { stdin: flags.interactive, tty: flags.tty, detachKeys: flags['detach-keys'] || undefined });
    const waitResponse = await client.request('POST', `/containers/${id}/wait`, { query: { condition: flags.rm ? 'removed' : 'next-exit' } });
    const status = (async () => {
      let code = 0;
      for await (const message of client.jsonLines<{ StatusCode: number }>(waitResponse)) code = message.StatusCode;
      return code;
    })();
    try {
      await client.request('POST', `/containers/${id}/start`);
    } catch (err) {
      session.close();
      runError(err);
    }
    await session.started();
    const stopProxy = flags['sig-proxy'] && !flags.tty ? proxySignals(client, id) : () => undefined;
    // A detach (ctrl-p ctrl-q) ends the session while the container runs on: exit 0, as docker.
    const outcome = await Promise.race<number | 'detached'>([status, session.output.then((): Promise<number | 'detached'> | 'detached' => (session.detached ? 'detached' : status))]);
    stopProxy();
    if (outcome === 'detached') return 0;
    await session.output;
    return outcome;
  },
});
