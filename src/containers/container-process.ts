/**
 * How a container's process is made from its config and its image's: command (Entrypoint + Cmd),
 * environment (image, then run, with Docker's PATH and HOSTNAME), working directory, and the user
 * and groups resolved from the image's /etc/passwd and /etc/group (read in-root: user-database.ts).
 */
import { InvalidArgumentError } from '../lib/errors.js';
import type { ContainerConfig } from '../oci/index.js';
import type { ContainerConfigInput } from './container-record.js';

export { resolveUser } from './user-database.js';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The process's argv from the config merged with the image's (image-config-merge.ts): Entrypoint then Cmd. */
export function commandOf(merged: ContainerConfigInput): string[] {
  const args = [...(merged.Entrypoint ?? []), ...(merged.Cmd ?? [])];
  if (args.length === 0) throw new InvalidArgumentError('no command specified');
  return args;
}

/** Image env, then the run's (same keys replaced), PATH added when missing, HOSTNAME first. */
export function environmentOf(config: ContainerConfigInput, image: ContainerConfig, hostname: string): string[] {
  const env = new Map<string, string>();
  for (const entry of [...(image.Env ?? []), ...(config.Env ?? [])]) {
    const eq = entry.indexOf('=');
    if (eq === -1) continue; // "-e NAME" without a value and not set in berth's env: Docker drops it too
    env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH.slice('PATH='.length));
  if (config.Tty && !env.has('TERM')) env.set('TERM', 'xterm');
  env.delete('HOSTNAME');
  return [`HOSTNAME=${hostname}`, ...[...env].map(([k, v]) => `${k}=${v}`)];
}

/** /etc/hosts as Docker writes it for a container without a network yet. */
export function hostsFile(hostname: string, address?: string, extraHosts: readonly { name: string; address: string }[] = [], domainname = ''): string {
  // With --domainname the fully qualified name comes first, then the short one (moby's order).
  const names = domainname ? `${hostname}.${domainname}\t${hostname}` : hostname;
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    // As Docker: the container's own address names it; without one, a loopback address does.
    ...extraHosts.map((h) => `${h.address}\t${h.name}`),
    address ? `${address}\t${names}` : `127.0.1.1\t${names}`,
    '',
  ].join('\n');
}

/** The host's resolv.conf without loopback resolvers, which a container cannot reach. */
/** --dns, --dns-search and --dns-option replace the host's lines of the same kind, as in Docker. */
export function customResolvConf(base: string, custom: { servers: string[]; search: string[]; options: string[] }): string {
  let lines = base.trim().split('\n');
  if (custom.servers.length > 0) lines = [...custom.servers.map((s) => `nameserver ${s}`), ...lines.filter((l) => !/^\s*nameserver\s/.test(l))];
  if (custom.search.length > 0) lines = [...lines.filter((l) => !/^\s*(search|domain)\s/.test(l)), `search ${custom.search.join(' ')}`];
  if (custom.options.length > 0) lines = [...lines.filter((l) => !/^\s*options\s/.test(l)), `options ${custom.options.join(' ')}`];
  return `${lines.join('\n').trim()}\n`;
}

export function resolvConf(hostResolvConf: string, embeddedDns?: string): string {
  // With the network's embedded DNS, it is the only nameserver (it forwards the rest to the host's).
  const lines = hostResolvConf.split('\n').filter((line) => (embeddedDns ? !/^\s*nameserver\s/.test(line) : !/^\s*nameserver\s+(127\.|::1)/.test(line)));
  if (embeddedDns) lines.unshift(`nameserver ${embeddedDns}`);
  return `${lines.join('\n').trim()}\n`;
}
