/** What `GET /version` and `GET /info` report, assembled from the host and the engine's state. */
import type { SystemInfo, SystemVersion } from '../api/types/index.js';
import type { BuildInfo } from '../lib/build-info.js';
import type { Clock } from '../lib/clock.js';
import type { RuntimeSelection } from '../runtime/index.js';
import { MAX_API_VERSION, MIN_API_VERSION } from '../api/api-version.js';
import type { HostFacts } from './host-probe.js';
import { readdirSync } from 'node:fs';
import { securityOptionsOf } from './security-options.js';

function openFileDescriptors(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/** Live counts the engine's stores provide. */
export interface EngineInventory {
  containerCounts(): { running: number; paused: number; stopped: number };
  imageCount(): number;
}

export interface SystemServiceOptions {
  build: BuildInfo;
  host: HostFacts;
  runtimes: RuntimeSelection;
  inventory: EngineInventory;
  engineId: string;
  dataRoot: string;
  debug: boolean;
  storageDriver: string;
  registry: { insecureRegistries: string[]; mirrors: string[] };
  /** The daemon's default seccomp profile as configured: "builtin", "unconfined" or a path. */
  seccompProfile: string;
  /** Whether containers get a private cgroup namespace by default. */
  cgroupnsPrivate: boolean;
  initBinary?: string;
  labels: string[];
  clock: Clock;
  /** How many clients are following /events right now. */
  eventListeners(): number;
}

export class SystemService {
  constructor(private readonly options: SystemServiceOptions) {}

  version(): SystemVersion {
    const { build, host, runtimes } = this.options;
    const engineDetails: Record<string, string> = {
      ApiVersion: MAX_API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: build.gitCommit,
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: host.goArch,
      KernelVersion: host.kernelVersion,
      BuildTime: build.buildTime,
      Experimental: 'false',
    };
    return {
      Platform: { Name: 'berth' },
      Components: [
        { Name: 'Engine', Version: build.version, Details: engineDetails },
        ...runtimes.runtimes.map((r) => ({ Name: r.name, Version: r.version, Details: { GitCommit: r.commit } })),
      ],
      Version: build.version,
      ApiVersion: MAX_API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: build.gitCommit,
      GoVersion: engineDetails.GoVersion,
      Os: 'linux',
      Arch: host.goArch,
      KernelVersion: host.kernelVersion,
      Experimental: false,
      BuildTime: build.buildTime,
    };
  }

  info(): SystemInfo {
    const now = new Date(this.options.clock.nowMs());
    const o = this.options;
    const counts = o.inventory.containerCounts();
    const defaultRuntime = o.runtimes.runtimes.find((r) => r.name === o.runtimes.defaultRuntime);
    const cgroupV2 = o.host.cgroupMode === 'unified';
    const securityOptions = securityOptionsOf({ seccompSupported: o.host.seccompSupported, seccompProfile: o.seccompProfile, cgroupnsPrivate: o.cgroupnsPrivate });
    return {
      ID: o.engineId,
      Containers: counts.running + counts.paused + counts.stopped,
      ContainersRunning: counts.running,
      ContainersPaused: counts.paused,
      ContainersStopped: counts.stopped,
      Images: o.inventory.imageCount(),
      Driver: o.storageDriver,
      DriverStatus: [],
      DockerRootDir: o.dataRoot,
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: [], Log: ['k8s-file'] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      OomKillDisable: !cgroupV2,
      Debug: o.debug,
      NFd: openFileDescriptors(),
      NGoroutines: 0,
      SystemTime: now.toISOString(),
      LoggingDriver: 'k8s-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: cgroupV2 ? '2' : '1',
      NEventsListener: o.eventListeners(),
      KernelVersion: o.host.kernelVersion,
      OperatingSystem: o.host.operatingSystem,
      OSVersion: o.host.osVersion,
      OSType: 'linux',
      Architecture: o.host.architecture,
      NCPU: o.host.ncpu,
      MemTotal: o.host.memTotal,
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128', ...o.registry.insecureRegistries.filter((r) => r.includes('/'))],
        IndexConfigs: {
          'docker.io': { Name: 'docker.io', Mirrors: o.registry.mirrors, Secure: true, Official: true },
          ...Object.fromEntries(o.registry.insecureRegistries.filter((r) => !r.includes('/')).map((r) => [r, { Name: r, Mirrors: [], Secure: false, Official: false }])),
        },
        Mirrors: o.registry.mirrors,
      },
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: o.host.hostname,
      Labels: o.labels,
      ExperimentalBuild: false,
      ServerVersion: o.build.version,
      Runtimes: Object.fromEntries(o.runtimes.runtimes.map((r) => [r.name, { path: r.path }])),
      DefaultRuntime: o.runtimes.defaultRuntime,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: false,
      Isolation: '',
      InitBinary: o.initBinary ?? '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: defaultRuntime?.commit ?? '' },
      InitCommit: { ID: '' },
      SecurityOptions: securityOptions,
      Warnings: o.runtimes.runtimes.length === 0 ? ['WARNING: no OCI runtime (runc or crun) found on PATH: containers cannot run'] : [],
      CDISpecDirs: [],
    };
  }
}
