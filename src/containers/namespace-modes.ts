/**
 * PidMode, IpcMode and UTSMode as Docker reads them: a namespace of the container's own (the
 * default), the host's ("host"), another running container's ("container:<name|id>"), and for IPC
 * also "none" (no /dev/shm), "private" and "shareable". Checked at create, resolved at start.
 */
import { ConflictError, InvalidArgumentError } from '../lib/errors.js';
import type { NamespaceJoin } from '../oci/runtime-spec.js';

export type NamespaceMode = { kind: 'private' } | { kind: 'shareable' } | { kind: 'host' } | { kind: 'container'; target: string } | { kind: 'none' };

export interface NamespaceModes {
  pid: NamespaceMode;
  ipc: NamespaceMode;
  uts: NamespaceMode;
}

function parse(value: unknown, label: string, allowed: readonly string[]): NamespaceMode {
  const text = typeof value === 'string' ? value : '';
  if (text === '' || text === 'private' || text === 'shareable') {
    if (text !== '' && !allowed.includes(text)) throw new InvalidArgumentError(`invalid ${label} mode: ${text}`);
    return text === 'shareable' ? { kind: 'shareable' } : { kind: 'private' };
  }
  if (text === 'host') return { kind: 'host' };
  if (text === 'none' && allowed.includes('none')) return { kind: 'none' };
  if (text.startsWith('container:') && text.length > 'container:'.length && allowed.includes('container')) return { kind: 'container', target: text.slice('container:'.length) };
  throw new InvalidArgumentError(`invalid ${label} mode: ${text}`);
}

/** --cgroupns: the container's own cgroup namespace (it sees its cgroup as the root) or the host's. */
export type CgroupnsMode = 'host' | 'private';

/** HostConfig.CgroupnsMode, `fallback` when unset; 400 with moby's words for any other value. */
export function cgroupnsModeOf(value: unknown, fallback: CgroupnsMode): CgroupnsMode {
  if (value === undefined || value === null || value === '') return fallback;
  if (value === 'host' || value === 'private') return value;
  throw new InvalidArgumentError(`invalid cgroup namespace mode: ${String(value)}`);
}

/** The modes of a create request; 400 with moby's words for values it does not know. */
export function namespaceModesOf(hostConfig: Record<string, unknown>, hostname: string | undefined): NamespaceModes {
  const modes = {
    pid: parse(hostConfig['PidMode'], 'PID', ['container']),
    ipc: parse(hostConfig['IpcMode'], 'IPC', ['private', 'shareable', 'container', 'none']),
    uts: parse(hostConfig['UTSMode'], 'UTS', []),
  };
  if (modes.uts.kind === 'host' && hostname) throw new InvalidArgumentError('conflicting options: hostname and the UTS mode');
  return modes;
}

/** What the runtime spec needs at start: namespaces to join, and where /dev/shm comes from. */
export interface ResolvedNamespaces {
  pid?: NamespaceJoin;
  ipc?: NamespaceJoin;
  uts?: NamespaceJoin;
  /** undefined: the container's own tmpfs; 'none': no /dev/shm; a path: bind-mounted from there. */
  shm?: 'none' | string;
}

export interface NamespaceDonor {
  id: string;
  /** Its pid while it runs. */
  pid: number | undefined;
  ipcShareable: boolean;
  /** The host-side /dev/shm a shareable container gets (so others can bind it). */
  shmPath: string;
}

/**
 * Joins resolved to paths; `donor` finds a container by name or ID. As Docker: joining needs it
 * running (409), and joining its IPC needs it created with --ipc shareable, whose /dev/shm lives on
 * the host (`ownShm`) so that the joiner can bind the same one.
 */
export function resolveNamespaces(modes: NamespaceModes, donor: (target: string) => NamespaceDonor, ownShm: string): ResolvedNamespaces {
  const resolved: ResolvedNamespaces = {};
  if (modes.pid.kind === 'host') resolved.pid = { host: true };
  if (modes.pid.kind === 'container') {
    const other = donor(modes.pid.target);
    if (!other.pid) throw new ConflictError(`cannot join PID of a non running container: ${other.id}`);
    resolved.pid = { path: `/proc/${other.pid}/ns/pid` };
  }
  if (modes.ipc.kind === 'host') {
    resolved.ipc = { host: true };
    resolved.shm = '/dev/shm';
  } else if (modes.ipc.kind === 'container') {
    const other = donor(modes.ipc.target);
    if (!other.pid) throw new ConflictError(`cannot join IPC of a non running container: ${other.id}`);
    if (!other.ipcShareable) throw new ConflictError(`non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    resolved.ipc = { path: `/proc/${other.pid}/ns/ipc` };
    resolved.shm = other.shmPath;
  } else if (modes.ipc.kind === 'none') {
    resolved.shm = 'none';
  } else if (modes.ipc.kind === 'shareable') {
    resolved.shm = ownShm;
  }
  if (modes.uts.kind === 'host') resolved.uts = { host: true };
  return resolved;
}
