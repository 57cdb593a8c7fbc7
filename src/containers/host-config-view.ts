/**
 * HostConfig as docker inspect shows it (moby's api/types/container/hostconfig.go, API 1.50):
 * every field, in Docker's order, with the values dockerd fills in at create where the client
 * sent none (ShmSize 64 MiB, MemorySwap twice Memory, IpcMode private, NetworkMode bridge).
 */
import { MASKED_PATHS, READONLY_PATHS } from '../oci/runtime-spec.js';
import type { HostConfigInput } from './container-record.js';

/** What `docker create busybox` through the API with no HostConfig at all shows. */
function defaults(privileged: boolean): Record<string, unknown> {
  return {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: 'k8s-file', Config: {} },
    NetworkMode: 'bridge',
    PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    VolumeDriver: '',
    VolumesFrom: null,
    ConsoleSize: [0, 0],
    CapAdd: null,
    CapDrop: null,
    CgroupnsMode: '',
    Dns: null,
    DnsOptions: null,
    DnsSearch: null,
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: 'private',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 64 * 1024 * 1024,
    Runtime: '',
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: null,
    OomKillDisable: false,
    PidsLimit: null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: privileged ? null : MASKED_PATHS,
    ReadonlyPaths: privileged ? null : READONLY_PATHS,
  };
}

/** The fields moby leaves out when empty (`json:",omitempty"`). */
const OMIT_EMPTY = ['Annotations', 'StorageOpt', 'Tmpfs', 'Sysctls', 'KernelMemory', 'KernelMemoryTCP', 'Mounts', 'Init'];

const isEmpty = (value: unknown): boolean =>
  value === undefined || value === null || value === 0 || value === false || value === '' || (typeof value === 'object' && Object.keys(value as object).length === 0);

export function hostConfigView(hostConfig: HostConfigInput, runtime: string): Record<string, unknown> {
  const view: Record<string, unknown> = defaults(hostConfig.Privileged === true);
  for (const [key, value] of Object.entries(hostConfig)) {
    if (value === undefined) continue;
    // A zero value the client sent for a field dockerd fills in is the filled-in value.
    if ((key === 'ShmSize' || key === 'IpcMode' || key === 'OomKillDisable' || key === 'MaskedPaths' || key === 'ReadonlyPaths') && (value === 0 || value === '' || value === null)) continue;
    view[key] = value;
  }
  if (view['NetworkMode'] === '' || view['NetworkMode'] === 'default') view['NetworkMode'] = 'bridge';
  const logConfig = view['LogConfig'] as { Type?: string; Config?: Record<string, string> | null };
  view['LogConfig'] = { Type: logConfig.Type || 'k8s-file', Config: logConfig.Config ?? {} };
  const restart = view['RestartPolicy'] as { Name?: string; MaximumRetryCount?: number };
  view['RestartPolicy'] = { Name: restart.Name || 'no', MaximumRetryCount: restart.MaximumRetryCount ?? 0 };
  const memory = typeof view['Memory'] === 'number' ? (view['Memory'] as number) : 0;
  if (memory > 0 && !view['MemorySwap']) view['MemorySwap'] = memory * 2;
  // moby's "no value": swappiness -1 and a pids limit of 0 or less are null; KernelMemory is ignored since API 1.42.
  if (view['MemorySwappiness'] === -1) view['MemorySwappiness'] = null;
  if (typeof view['PidsLimit'] === 'number' && (view['PidsLimit'] as number) <= 0) view['PidsLimit'] = null;
  delete view['KernelMemory'];
  view['Runtime'] = runtime;
  for (const key of OMIT_EMPTY) if (isEmpty(view[key])) delete view[key];
  if (hostConfig['Init'] !== undefined && hostConfig['Init'] !== null) view['Init'] = hostConfig['Init']; // a pointer: false is shown
  return view;
}
