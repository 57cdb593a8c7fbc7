/** Containers in the Docker Engine API's shapes: ContainerInspectResponse and ContainerSummary. */
import { networkSettingsOf, summaryPorts, type NetworkView } from './network-settings.js';
import type { ContainerRecord } from './container-record.js';
import { statusText } from './container-status.js';
import { hostConfigView } from './host-config-view.js';
import type { HealthConfig } from '../oci/index.js';

/** moby's HealthConfig leaves zero durations and retries out. */
function healthcheckView(health: HealthConfig): HealthConfig {
  return Object.fromEntries(Object.entries(health).filter(([, v]) => v !== undefined && v !== null && v !== 0 && !(Array.isArray(v) && v.length === 0))) as HealthConfig;
}

/** Config as docker inspect shows it (moby's container.Config for API 1.50, fields in its order). */
function configView(record: ContainerRecord): Record<string, unknown> {
  const c = record.config;
  const exposed = c.ExposedPorts ?? {};
  return {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
    ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
    Tty: c.Tty ?? false,
    OpenStdin: c.OpenStdin ?? false,
    StdinOnce: c.StdinOnce ?? false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    ...(c.Healthcheck ? { Healthcheck: healthcheckView(c.Healthcheck) } : {}),
    Image: record.imageName,
    Volumes: c.Volumes && Object.keys(c.Volumes).length > 0 ? c.Volumes : null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: null,
    Labels: c.Labels ?? {},
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    ...(typeof c.StopTimeout === 'number' ? { StopTimeout: c.StopTimeout } : {}),
    ...(c.Shell && c.Shell.length > 0 ? { Shell: c.Shell } : {}),
  };
}

/** /containers/json's Command as moby writes it: Path, then Args with those holding a space in single quotes. */
function commandLine(record: ContainerRecord): string {
  if (record.args.length === 0) return record.path;
  return `${record.path} ${record.args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
}

export function toContainerInspect(record: ContainerRecord, extra: { logPath: string; rootfs: string; network?: NetworkView; imageExposed: Record<string, unknown>; mounts?: Record<string, unknown>[] }): Record<string, unknown> {
  const s = record.state;
  return {
    Id: record.id,
    Created: record.created,
    Path: record.path,
    Args: record.args,
    State: {
      Status: s.status,
      Running: s.status === 'running',
      Paused: s.status === 'paused',
      Restarting: s.status === 'restarting',
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
      ...(s.health ? { Health: s.health } : {}),
    },
    Image: record.imageId,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: extra.logPath,
    Name: `/${record.name}`,
    RestartCount: record.restartCount,
    Driver: 'overlayfs',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: hostConfigView(record.hostConfig, record.runtime),
    GraphDriver: { Name: 'overlayfs', Data: { MergedDir: extra.rootfs } },
    Mounts: extra.mounts ?? [],
    Config: configView(record),
    NetworkSettings: extra.network ? networkSettingsOf(record, extra.network, extra.imageExposed) : { Bridge: '', SandboxID: '', Ports: {}, Networks: {} },
  };
}

export function toContainerSummary(record: ContainerRecord, nowMs: number, extra: { network?: NetworkView; imageExposed: Record<string, unknown>; mounts?: Record<string, unknown>[] } = { imageExposed: {} }): Record<string, unknown> {
  return {
    Id: record.id,
    Names: [`/${record.name}`],
    Image: record.imageName,
    ImageID: record.imageId,
    Command: commandLine(record),
    Created: Math.floor(Date.parse(record.created) / 1000),
    Ports: summaryPorts(record, extra.imageExposed, extra.network?.networks[0]?.endpoint),
    Labels: record.config.Labels ?? {},
    State: record.state.status,
    Status: statusText(record.state, nowMs),
    HostConfig: { NetworkMode: !record.hostConfig.NetworkMode || record.hostConfig.NetworkMode === 'default' ? 'bridge' : record.hostConfig.NetworkMode },
    NetworkSettings: { Networks: extra.network ? (networkSettingsOf(record, extra.network, extra.imageExposed)['Networks'] as object) : {} },
    Mounts: extra.mounts ?? [],
  };
}
