/** Containers in the Docker Engine API's shapes: ContainerInspectResponse and ContainerSummary. */
import { networkSettingsOf, summaryPorts, type NetworkView } from './network-settings.js';
import type { ContainerRecord } from './container-record.js';
import { statusText } from './container-status.js';

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
    HostConfig: { NetworkMode: 'bridge', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, LogConfig: { Type: 'k8s-file', Config: {} }, ...record.hostConfig, Runtime: record.runtime },
    GraphDriver: { Name: 'overlayfs', Data: { MergedDir: extra.rootfs } },
    Mounts: extra.mounts ?? [],
    Config: {
      Hostname: record.config.Hostname ?? '',
      Domainname: record.config.Domainname ?? '',
      User: record.config.User ?? '',
      AttachStdin: record.config.AttachStdin ?? false,
      AttachStdout: record.config.AttachStdout ?? false,
      AttachStderr: record.config.AttachStderr ?? false,
      Tty: record.config.Tty ?? false,
      OpenStdin: record.config.OpenStdin ?? false,
      StdinOnce: record.config.StdinOnce ?? false,
      Env: record.config.Env ?? [],
      Cmd: record.config.Cmd ?? null,
      Image: record.imageName,
      Volumes: null,
      WorkingDir: record.config.WorkingDir ?? '',
      Entrypoint: record.config.Entrypoint ?? null,
      OnBuild: null,
      Labels: record.config.Labels ?? {},
      ...(record.config.StopSignal ? { StopSignal: record.config.StopSignal } : {}),
    },
    NetworkSettings: extra.network ? networkSettingsOf(record, extra.network, extra.imageExposed) : { Bridge: '', SandboxID: '', Ports: {}, Networks: {} },
  };
}

export function toContainerSummary(record: ContainerRecord, nowMs: number, extra: { network?: NetworkView; imageExposed: Record<string, unknown>; mounts?: Record<string, unknown>[] } = { imageExposed: {} }): Record<string, unknown> {
  return {
    Id: record.id,
    Names: [`/${record.name}`],
    Image: record.imageName,
    ImageID: record.imageId,
    Command: [record.path, ...record.args].join(' '),
    Created: Math.floor(Date.parse(record.created) / 1000),
    Ports: summaryPorts(record, extra.imageExposed, extra.network?.networks[0]?.endpoint),
    Labels: record.config.Labels ?? {},
    State: record.state.status,
    Status: statusText(record.state, nowMs),
    HostConfig: { NetworkMode: record.hostConfig.NetworkMode || 'bridge' },
    NetworkSettings: { Networks: extra.network ? (networkSettingsOf(record, extra.network, extra.imageExposed)['Networks'] as object) : {} },
    Mounts: extra.mounts ?? [],
  };
}
