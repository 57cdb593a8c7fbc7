/**
 * The OCI runtime spec (config.json) for a container, with Docker's defaults: the 14 default
 * capabilities, masked and read-only paths, the standard mounts and device rules.
 */

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface RuntimeMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  /** The pty's initial size, when the client sent one. */
  consoleSize?: { height: number; width: number };
  capabilities: string[];
  noNewPrivileges: boolean;
  /** Only the limits asked for; the rest are inherited (no CAP_SYS_RESOURCE here to raise them). */
  rlimits: { type: string; hard: number; soft: number }[];
}

/** A namespace shared instead of made: the host's, or another process's (a /proc/PID/ns path). */
export type NamespaceJoin = { host: true } | { path: string };

export interface RuntimeSpecInput {
  process: ProcessSpec;
  rootfs: string;
  readonlyRootfs: boolean;
  /** The propagation of the container's root mount, when a shared or slave bind needs one. */
  rootfsPropagation?: string;
  hostname: string;
  /** The NIS domain name (--domainname); set only in the container's own UTS namespace. */
  domainname?: string;
  /** Extra mounts after the defaults (hosts, hostname, resolv.conf, volumes). */
  mounts: RuntimeMount[];
  shmSizeBytes: number;
  cgroupsPath: string;
  /** A network namespace to join (a path), or undefined for a new one. */
  netnsPath?: string;
  /** --network host: no network namespace at all. */
  hostNetwork?: boolean;
  /** --pid, --ipc, --uts host or container:X; /dev/shm none (--ipc none) or bound from a path. */
  shared?: { pid?: NamespaceJoin; ipc?: NamespaceJoin; uts?: NamespaceJoin; shm?: 'none' | string };
  /** --cgroupns private: a cgroup namespace of the container's own. */
  cgroupNamespace?: boolean;
  /** --sysctl: namespaced kernel parameters, set by the runtime inside the container. */
  sysctls?: Record<string, string>;
  privileged: boolean;
  /** linux.seccomp, or undefined for none (privileged, seccomp=unconfined). */
  seccomp?: Record<string, unknown>;
  resources: ResourceLimits;
  /** --device nodes: created in the container and allowed in its device cgroup. */
  devices?: { path: string; type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number; access: string }[];
}

/** cgroup limits in the OCI spec's units. */
export interface ResourceLimits {
  memoryBytes?: number;
  /** Memory plus swap; -1 unlimited. */
  memorySwapBytes?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
}

const DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

export function defaultMounts(shmSizeBytes: number, privileged: boolean): RuntimeMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSizeBytes}`] },
  ];
}

/** A namespace of the container's own, none (the host's), or another process's by path. */
function namespace(type: string, join: NamespaceJoin | undefined): { type: string; path?: string }[] {
  if (!join) return [{ type }];
  return 'host' in join ? [] : [{ type, path: join.path }];
}

/** /dev/shm as the IPC mode wants it: the container's own tmpfs, none, or another's bound in. */
function shmMounts(mounts: RuntimeMount[], shm: 'none' | string | undefined): RuntimeMount[] {
  if (shm === undefined) return mounts;
  const others = mounts.filter((m) => m.destination !== '/dev/shm');
  return shm === 'none' ? others : [...others, { destination: '/dev/shm', type: 'bind', source: shm, options: ['rbind', 'rprivate'] }];
}

/** The whole config.json document. */
export function buildRuntimeSpec(input: RuntimeSpecInput): Record<string, unknown> {
  const caps = input.process.capabilities;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: input.process.terminal,
      ...(input.process.terminal && input.process.consoleSize ? { consoleSize: input.process.consoleSize } : {}),
      user: { uid: input.process.uid, gid: input.process.gid, additionalGids: input.process.additionalGids },
      args: input.process.args,
      env: input.process.env,
      cwd: input.process.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [] },
      noNewPrivileges: input.process.noNewPrivileges,
      ...(input.process.rlimits.length ? { rlimits: input.process.rlimits } : {}),
      oomScoreAdj: 0,
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    // The host's UTS namespace has the host's name: a runtime may not set one there.
    ...(input.shared?.uts ? {} : { hostname: input.hostname, ...(input.domainname ? { domainname: input.domainname } : {}) }),
    mounts: [...shmMounts(defaultMounts(input.shmSizeBytes, input.privileged), input.shared?.shm), ...input.mounts],
    linux: {
      namespaces: [
        ...namespace('pid', input.shared?.pid),
        ...namespace('ipc', input.shared?.ipc),
        ...namespace('uts', input.shared?.uts),
        { type: 'mount' },
        ...(input.cgroupNamespace ? [{ type: 'cgroup' }] : []),
        ...(input.hostNetwork ? [] : [input.netnsPath ? { type: 'network', path: input.netnsPath } : { type: 'network' }]),
      ],
      cgroupsPath: input.cgroupsPath,
      ...(input.devices && input.devices.length > 0 ? { devices: input.devices.map(({ access: _access, ...node }) => node) } : {}),
      resources: {
        devices: input.privileged ? [{ allow: true, access: 'rwm' }] : [...DEVICE_RULES, ...(input.devices ?? []).map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.access }))],
        ...(input.resources.memoryBytes || input.resources.memorySwapBytes
          ? { memory: { ...(input.resources.memoryBytes ? { limit: input.resources.memoryBytes } : {}), ...(input.resources.memorySwapBytes ? { swap: input.resources.memorySwapBytes } : {}) } }
          : {}),
        ...(input.resources.cpuQuota || input.resources.cpuShares || input.resources.cpusetCpus
          ? {
              cpu: {
                ...(input.resources.cpuQuota ? { quota: input.resources.cpuQuota, period: input.resources.cpuPeriod ?? 100_000 } : {}),
                ...(input.resources.cpuShares ? { shares: input.resources.cpuShares } : {}),
                ...(input.resources.cpusetCpus ? { cpus: input.resources.cpusetCpus } : {}),
              },
            }
          : {}),
        ...(input.resources.pidsLimit && input.resources.pidsLimit > 0 ? { pids: { limit: input.resources.pidsLimit } } : {}),
      },
      ...(input.seccomp ? { seccomp: input.seccomp } : {}),
      ...(input.sysctls && Object.keys(input.sysctls).length > 0 ? { sysctl: input.sysctls } : {}),
      ...(input.rootfsPropagation ? { rootfsPropagation: input.rootfsPropagation } : {}),
      maskedPaths: input.privileged ? [] : MASKED_PATHS,
      readonlyPaths: input.privileged ? [] : READONLY_PATHS,
    },
  };
}
