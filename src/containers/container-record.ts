/** What berth keeps about one container (config.v2.json), in Docker's vocabulary. */
import type { Digest } from '../content/digest.js';
import type { MountRecord } from './container-mounts.js';
import type { HealthState } from './health-check.js';
import type { HealthConfig } from '../oci/index.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  error: string;
  startedAt: string;
  finishedAt: string;
  oomKilled: boolean;
  /** Health check state while a container with a HEALTHCHECK runs (and its last value after). */
  health?: HealthState;
}

/** The create request's Config part, as the API sends it (fields berth uses). */
export interface ContainerConfigInput {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  Healthcheck?: HealthConfig | null;
  Shell?: string[] | null;
}

/** NetworkingConfig.EndpointsConfig's value for one network (fields berth uses). */
export interface EndpointSettingsInput {
  Aliases?: string[] | null;
  MacAddress?: string;
  IPAMConfig?: { IPv4Address?: string } | null;
}

export interface HostConfigInput {
  AutoRemove?: boolean;
  Privileged?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  ReadonlyRootfs?: boolean;
  ShmSize?: number;
  NetworkMode?: string;
  Runtime?: string;
  [key: string]: unknown;
}

export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  /** The image as the user named it, and the ID it resolved to. */
  imageName: string;
  imageId: Digest;
  /** Top layer chain the container's snapshot stands on (undefined for an empty image). */
  chainId?: Digest;
  path: string;
  args: string[];
  config: ContainerConfigInput;
  hostConfig: HostConfigInput;
  runtime: string;
  /** Networks to join besides (or as) NetworkMode's, by name, with their endpoint settings. */
  networks?: Record<string, EndpointSettingsInput>;
  /** Volumes, binds and tmpfs mounts decided at create. */
  mounts?: MountRecord[];
  state: ContainerState;
  restartCount: number;
  /** Stopped by a user (stop): restart policies leave it down (always: until berthd or the user starts it). */
  manuallyStopped?: boolean;
  /**
   * Set before berth itself freezes the container (commit, docker cp), cleared when it thaws: a
   * restart after a crash in between thaws it, while a pause its user asked for stays.
   */
  frozenByEngine?: boolean;
}

/** Go's zero time, as Docker shows a time that never was (StartedAt of a container never started). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';
