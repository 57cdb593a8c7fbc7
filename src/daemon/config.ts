/**
 * berthd's configuration: dockerd's flag names, then /etc/berth/daemon.json with Docker's keys
 * where they mean the same. A setting given both ways, or a key berth does not know, is an error,
 * as in dockerd.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { parseFlags, type FlagSpecs } from '../lib/flag-parser.js';
import { InvalidArgumentError, errnoCode } from '../lib/errors.js';
import { parseByteSize } from '../lib/human-units.js';
import { checkTcpExposure, parseListenAddress, type ListenAddress, type TlsSettings } from '../api/index.js';
import { defaultSeccompProfile } from '../oci/seccomp-default.js';
import { parseSeccompProfile, type SeccompProfileDocument } from '../oci/seccomp-profile.js';

export const DEFAULT_SOCKET = 'unix:///run/berth/berth.sock';
export const DEFAULT_DATA_ROOT = '/var/lib/berth';
export const DEFAULT_EXEC_ROOT = '/run/berth';
export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DAEMON_FLAGS = {
  host: { type: 'strings', short: 'H', usage: 'Daemon socket(s) to connect to', default: [DEFAULT_SOCKET] },
  'data-root': { type: 'string', usage: 'Root directory of persistent berth state', default: DEFAULT_DATA_ROOT },
  'exec-root': { type: 'string', usage: 'Root directory for execution state files', default: DEFAULT_EXEC_ROOT },
  pidfile: { type: 'string', short: 'p', usage: 'Path to use for daemon PID file (default "<exec-root>/berthd.pid")' },
  'config-file': { type: 'string', usage: 'Daemon configuration file', default: DEFAULT_CONFIG_FILE },
  debug: { type: 'bool', short: 'D', usage: 'Enable debug mode' },
  'log-level': { type: 'string', short: 'l', usage: 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")', default: 'info' },
  group: { type: 'string', short: 'G', usage: 'Group for the unix socket', default: 'berth' },
  'default-runtime': { type: 'string', usage: 'Default OCI runtime for containers (default: crun on cgroup v2, else runc)' },
  label: { type: 'strings', usage: 'Set key=value labels to the daemon' },
  'cgroup-parent': { type: 'string', usage: 'Parent cgroup for all containers', default: '/berth' },
  bridge: { type: 'string', short: 'b', usage: 'Name of the bridge device of the default "bridge" network', default: 'berth0' },
  bip: { type: 'string', usage: 'Gateway address and subnet of the default bridge network (CIDR)' },
  'seccomp-profile': { type: 'string', usage: 'Path to the default seccomp profile, "builtin" (Docker\'s default profile) or "unconfined"', default: 'builtin' },
  'default-cgroupns-mode': { type: 'string', usage: 'Default mode for containers cgroup namespace ("host" | "private") (default: private on cgroup v2, else host)' },
  tls: { type: 'bool', usage: 'Use TLS; implied by --tlsverify' },
  tlsverify: { type: 'bool', usage: 'Use TLS and verify the remote' },
  tlscacert: { type: 'string', usage: 'Trust certs signed only by this CA (default "~/.docker/ca.pem")' },
  tlscert: { type: 'string', usage: 'Path to TLS certificate file (default "~/.docker/cert.pem")' },
  tlskey: { type: 'string', usage: 'Path to TLS key file (default "~/.docker/key.pem")' },
  'registry-mirror': { type: 'strings', usage: 'Preferred registry mirror for Docker Hub' },
  'insecure-registry': { type: 'strings', usage: 'Registries (host:port or CIDR) that may use plain HTTP' },
  'max-concurrent-downloads': { type: 'int', usage: 'Maximum concurrent downloads for each pull', default: 3 },
  'max-concurrent-uploads': { type: 'int', usage: 'Maximum concurrent uploads for each push', default: 5 },
  'max-unpack-size': { type: 'string', usage: 'Most a gzip or zstd layer, load archive, build context or ADD archive may unpack to (e.g. "64g")', default: '64g' },
  version: { type: 'bool', short: 'v', usage: 'Print version information and quit' },
  help: { type: 'bool', short: 'h', usage: 'Print usage' },
} satisfies FlagSpecs;

/** daemon.json key -> flag name, for the keys berth implements. */
const FILE_KEYS: Record<string, keyof typeof DAEMON_FLAGS | 'runtimes'> = {
  hosts: 'host',
  'data-root': 'data-root',
  'exec-root': 'exec-root',
  pidfile: 'pidfile',
  debug: 'debug',
  'log-level': 'log-level',
  group: 'group',
  'default-runtime': 'default-runtime',
  labels: 'label',
  runtimes: 'runtimes',
  'cgroup-parent': 'cgroup-parent',
  bridge: 'bridge',
  bip: 'bip',
  'seccomp-profile': 'seccomp-profile',
  'default-cgroupns-mode': 'default-cgroupns-mode',
  tls: 'tls',
  tlsverify: 'tlsverify',
  tlscacert: 'tlscacert',
  tlscert: 'tlscert',
  tlskey: 'tlskey',
  'registry-mirrors': 'registry-mirror',
  'insecure-registries': 'insecure-registry',
  'max-concurrent-downloads': 'max-concurrent-downloads',
  'max-concurrent-uploads': 'max-concurrent-uploads',
  'max-unpack-size': 'max-unpack-size',
};

export interface DaemonConfig {
  hosts: ListenAddress[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  configFile: string;
  debug: boolean;
  logLevel: LogLevel;
  group: string;
  /** True when the group was asked for explicitly (then a missing group is an error). */
  groupExplicit: boolean;
  defaultRuntime?: string;
  runtimes: Record<string, { path: string }>;
  labels: string[];
  cgroupParent: string;
  /** The default network's bridge device, and its address as --bip gives it (undefined: chosen). */
  bridge: string;
  bip?: string;
  /** The default seccomp profile: the built-in one, a file's (read at start), or none by explicit choice. */
  seccompProfile: SeccompProfileDocument | 'unconfined';
  /** How the seccomp profile was named: "builtin", "unconfined" or the file's path (`docker info` shows it). */
  seccompProfileName: string;
  /** undefined: private on cgroup v2, host otherwise (as dockerd). */
  defaultCgroupnsMode?: 'host' | 'private';
  /** TLS for every tcp:// address, when asked for. */
  tls?: TlsSettings;
  registryMirrors: string[];
  insecureRegistries: string[];
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** Bytes one compressed stream from outside may unpack to (a decompression bomb stops there). */
  maxUnpackSize?: number;
}

export type DaemonCommand = { kind: 'run'; config: DaemonConfig } | { kind: 'version' } | { kind: 'help' };

export async function loadDaemonConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<DaemonCommand> {
  const parsed = parseFlags(DAEMON_FLAGS, argv);
  if (parsed.flags.help) return { kind: 'help' };
  if (parsed.flags.version) return { kind: 'version' };
  if (parsed.positionals.length > 0) throw new InvalidArgumentError(`berthd takes no arguments, got "${parsed.positionals.join(' ')}"`);

  const configFile = parsed.flags['config-file'];
  const file = await readConfigFile(configFile, parsed.changed.has('config-file'));
  const fromFile = new Map<string, unknown>();
  const unknown: string[] = [];
  const conflicts: string[] = [];
  for (const [key, value] of Object.entries(file)) {
    const flag = FILE_KEYS[key];
    if (!flag) {
      unknown.push(key);
      continue;
    }
    if (flag !== 'runtimes' && parsed.changed.has(flag)) {
      conflicts.push(`${key}: (from flag: ${JSON.stringify(parsed.flags[flag])}, from file: ${JSON.stringify(value)})`);
    }
    fromFile.set(flag, value);
  }
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`the following directives don't match any configuration option: ${unknown.join(', ')}`);
  }
  if (conflicts.length > 0) {
    throw new InvalidArgumentError(`the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }

  const pick = <T>(flag: string, fallback: T, check: (v: unknown) => v is T, what: string): T => {
    if (!fromFile.has(flag)) return fallback;
    const value = fromFile.get(flag);
    if (!check(value)) throw new InvalidArgumentError(`invalid value for "${flag}" in ${configFile}: expected ${what}`);
    return value;
  };
  const isString = (v: unknown): v is string => typeof v === 'string';
  const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
  const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
  const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  const positive = (name: string, value: number) => {
    if (value < 1) throw new InvalidArgumentError(`${name} must be at least 1, got ${value}`);
    return value;
  };

  const dataRoot = pick('data-root', parsed.flags['data-root'], isString, 'a string');
  const execRoot = pick('exec-root', parsed.flags['exec-root'], isString, 'a string');
  const hostTexts = pick('host', parsed.flags.host, isStrings, 'a list of strings');
  const logLevel = pick('log-level', parsed.flags['log-level'], isString, 'a string');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new InvalidArgumentError(`unable to parse logging level: ${logLevel} (use one of ${LOG_LEVELS.join(', ')})`);
  }
  for (const [name, value] of [['data-root', dataRoot], ['exec-root', execRoot]] as const) {
    if (!value.startsWith('/')) throw new InvalidArgumentError(`${name} must be an absolute path, got "${value}"`);
  }
  const unpackText = pick('max-unpack-size', parsed.flags['max-unpack-size'], isString, 'a size such as "64g"');
  const maxUnpackSize = parseByteSize(unpackText);
  if (maxUnpackSize === undefined || maxUnpackSize < 1) throw new InvalidArgumentError(`invalid max-unpack-size "${unpackText}": expected a size such as "64g"`);
  const runtimes = pick('runtimes', {} as Record<string, { path: string }>, isRuntimeMap, 'an object of {"name": {"path": "..."}}');
  const defaultRuntime = pick('default-runtime', parsed.flags['default-runtime'], isString, 'a string') || undefined;
  const seccompSetting = pick('seccomp-profile', parsed.flags['seccomp-profile'], isString, 'a path');
  const cgroupnsMode = pick('default-cgroupns-mode', parsed.flags['default-cgroupns-mode'], isString, 'a string');
  if (cgroupnsMode !== '' && cgroupnsMode !== 'host' && cgroupnsMode !== 'private') {
    throw new InvalidArgumentError(`invalid default cgroup namespace (${cgroupnsMode}): use "host" or "private"`);
  }
  // As dockerd: giving tlsverify at all turns TLS on; TLS without tlsverify verifies clients.
  const has = (flag: 'tls' | 'tlsverify') => parsed.changed.has(flag) || fromFile.has(flag);
  const tlsOn = pick('tls', parsed.flags.tls, isBool, 'true or false') || has('tlsverify');
  const certDir = env['DOCKER_CERT_PATH'] || env['DOCKER_CONFIG'] || join(homedir(), '.docker');
  const tlsFile = (flag: 'tlscacert' | 'tlscert' | 'tlskey', name: string) => pick(flag, parsed.flags[flag], isString, 'a path') || join(certDir, name);
  const verify = has('tlsverify') ? pick('tlsverify', parsed.flags.tlsverify, isBool, 'true or false') : true;
  const hosts = (hostTexts.length > 0 ? hostTexts : [DEFAULT_SOCKET]).map(parseListenAddress);
  for (const host of hosts) checkTcpExposure(host, tlsOn ? { verify } : undefined);
  const tls = tlsOn ? await loadTls({ verify, caFile: tlsFile('tlscacert', 'ca.pem'), certFile: tlsFile('tlscert', 'cert.pem'), keyFile: tlsFile('tlskey', 'key.pem') }) : undefined;
  return {
    kind: 'run',
    config: {
      hosts,
      dataRoot,
      execRoot,
      pidfile: pick('pidfile', parsed.flags.pidfile, isString, 'a string') || `${execRoot}/berthd.pid`,
      configFile,
      debug: pick('debug', parsed.flags.debug, isBool, 'true or false'),
      logLevel: logLevel as LogLevel,
      group: pick('group', parsed.flags.group, isString, 'a string'),
      groupExplicit: parsed.changed.has('group') || fromFile.has('group'),
      defaultRuntime,
      runtimes,
      labels: pick('label', parsed.flags.label, isStrings, 'a list of strings'),
      cgroupParent: pick('cgroup-parent', parsed.flags['cgroup-parent'], isString, 'a string'),
      bridge: pick('bridge', parsed.flags.bridge, isString, 'a string'),
      bip: pick('bip', parsed.flags.bip, isString, 'a string') || undefined,
      seccompProfile: await loadSeccompSetting(seccompSetting),
      seccompProfileName: seccompSetting || 'builtin',
      defaultCgroupnsMode: cgroupnsMode || undefined,
      tls,
      registryMirrors: pick('registry-mirror', parsed.flags['registry-mirror'], isStrings, 'a list of URLs'),
      insecureRegistries: pick('insecure-registry', parsed.flags['insecure-registry'], isStrings, 'a list of host:port or CIDR'),
      maxConcurrentDownloads: positive('max-concurrent-downloads', pick('max-concurrent-downloads', parsed.flags['max-concurrent-downloads'], isNumber, 'a number')),
      maxConcurrentUploads: positive('max-concurrent-uploads', pick('max-concurrent-uploads', parsed.flags['max-concurrent-uploads'], isNumber, 'a number')),
      maxUnpackSize,
    },
  };
}

/**
 * The daemon's default seccomp profile. A profile file that cannot be read or parsed stops the
 * daemon (containers never run unfiltered because of it); "unconfined" is the explicit opt-out.
 */
async function loadSeccompSetting(setting: string): Promise<SeccompProfileDocument | 'unconfined'> {
  if (setting === '' || setting === 'builtin') return defaultSeccompProfile();
  if (setting === 'unconfined') return 'unconfined';
  let text: string;
  try {
    text = await readFile(setting, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`opening seccomp profile (${setting}) failed: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseSeccompProfile(text);
  } catch (err) {
    throw new InvalidArgumentError(`invalid seccomp profile (${setting}): ${(err as Error).message}`, { cause: err });
  }
}

/** Reads the TLS files once at start, so a missing or mismatched one stops the daemon with its name. */
async function loadTls(files: { verify: boolean; caFile: string; certFile: string; keyFile: string }): Promise<TlsSettings> {
  const read = async (what: string, path: string) => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new InvalidArgumentError(`invalid TLS configuration: could not read the ${what} ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  // One after the other, so the message names the first missing file, always the same one.
  const cert = await read('certificate (--tlscert)', files.certFile);
  const key = await read('key (--tlskey)', files.keyFile);
  const ca = files.verify ? await read('CA certificate (--tlscacert)', files.caFile) : undefined;
  const settings: TlsSettings = { verify: files.verify, cert, key, ...(ca ? { ca } : {}) };
  try {
    createSecureContext(settings);
  } catch (err) {
    throw new InvalidArgumentError(`invalid TLS configuration (${files.certFile}, ${files.keyFile}${ca ? `, ${files.caFile}` : ''}): ${(err as Error).message}`, { cause: err });
  }
  return settings;
}

function isRuntimeMap(v: unknown): v is Record<string, { path: string }> {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) &&
    Object.values(v).every((entry) => typeof entry === 'object' && entry !== null && typeof (entry as { path?: unknown }).path === 'string')
  );
}

async function readConfigFile(path: string, explicit: boolean): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && !explicit) return {};
    throw new InvalidArgumentError(`unable to read configuration file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`unable to configure the berth daemon with file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`unable to configure the berth daemon with file ${path}: the top level must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
