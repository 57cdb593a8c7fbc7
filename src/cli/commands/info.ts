/** `berth info`: the engine's system-wide information, laid out as docker prints it. */
import { defineCommand, type CliContext } from '../command.js';
import { formatOne } from '../format/formatter.js';
import type { SystemInfo } from '../../api/types/index.js';

/** Bytes in Docker's binary units: "23.54GiB". */
export function bytesToBinaryUnits(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toFixed(2)).toString()}${units[unit]}`;
}

function renderClient(ctx: CliContext): string[] {
  return [
    'Client:',
    ` Version:    ${ctx.build.version}`,
    ' Context:    default',
    ` Debug Mode: ${String(ctx.debug)}`,
  ];
}

function renderServer(info: SystemInfo): string[] {
  const out: string[] = ['Server:'];
  const line = (text: string) => out.push(text);
  line(` Containers: ${info.Containers ?? 0}`);
  line(`  Running: ${info.ContainersRunning ?? 0}`);
  line(`  Paused: ${info.ContainersPaused ?? 0}`);
  line(`  Stopped: ${info.ContainersStopped ?? 0}`);
  line(` Images: ${info.Images ?? 0}`);
  line(` Server Version: ${info.ServerVersion ?? ''}`);
  line(` Storage Driver: ${info.Driver ?? ''}`);
  for (const [key, value] of info.DriverStatus ?? []) line(`  ${key}: ${value}`);
  line(` Logging Driver: ${info.LoggingDriver ?? ''}`);
  line(` Cgroup Driver: ${info.CgroupDriver ?? ''}`);
  line(` Cgroup Version: ${info.CgroupVersion ?? ''}`);
  line(' Plugins:');
  line(`  Volume: ${(info.Plugins?.Volume ?? []).join(' ')}`);
  line(`  Network: ${(info.Plugins?.Network ?? []).join(' ')}`);
  line(`  Log: ${(info.Plugins?.Log ?? []).join(' ')}`);
  line(` Swarm: ${info.Swarm?.LocalNodeState ?? 'inactive'}`);
  const runtimes = Object.keys(info.Runtimes ?? {}).sort();
  line(` Runtimes: ${runtimes.join(' ')}`);
  line(` Default Runtime: ${info.DefaultRuntime ?? ''}`);
  line(` Init Binary: ${info.InitBinary ?? ''}`);
  line(` runc version: ${info.RuncCommit?.ID ?? ''}`);
  if (info.SecurityOptions?.length) {
    line(' Security Options:');
    for (const option of info.SecurityOptions) {
      const fields = Object.fromEntries(option.split(',').map((kv) => kv.split('=') as [string, string]));
      line(`  ${fields['name'] ?? option}`);
      if (fields['profile']) line(`   Profile: ${fields['profile']}`);
    }
  }
  line(` Kernel Version: ${info.KernelVersion ?? ''}`);
  line(` Operating System: ${info.OperatingSystem ?? ''}`);
  line(` OSType: ${info.OSType ?? ''}`);
  line(` Architecture: ${info.Architecture ?? ''}`);
  line(` CPUs: ${info.NCPU ?? 0}`);
  line(` Total Memory: ${bytesToBinaryUnits(info.MemTotal ?? 0)}`);
  line(` Name: ${info.Name ?? ''}`);
  line(` ID: ${info.ID ?? ''}`);
  line(` Docker Root Dir: ${info.DockerRootDir ?? ''}`);
  line(` Debug Mode: ${String(info.Debug ?? false)}`);
  if (info.Labels?.length) {
    line(' Labels:');
    for (const label of info.Labels) line(`  ${label}`);
  }
  line(` Experimental: ${String(info.ExperimentalBuild ?? false)}`);
  const insecure = info.RegistryConfig?.InsecureRegistryCIDRs ?? [];
  if (insecure.length) {
    line(' Insecure Registries:');
    for (const cidr of insecure) line(`  ${cidr}`);
  }
  line(` Live Restore Enabled: ${String(info.LiveRestoreEnabled ?? false)}`);
  return out;
}

const flags = {
  format: { type: 'string', short: 'f', usage: 'Format output using a custom template: \'json\' or a Go template' },
} as const;

export const infoCommand = defineCommand({
  name: 'info',
  usage: 'berth info [OPTIONS]',
  summary: 'Display system-wide information',
  flags,
  async run({ flags: options }, ctx) {
    const info = await ctx.client().json<SystemInfo>('GET', '/info');
    if (options.format) {
      ctx.stdout.write(formatOne({ ...info, ClientInfo: { Debug: ctx.debug, Context: 'default', Version: ctx.build.version } }, options.format));
      return 0;
    }
    const lines = [...renderClient(ctx), '', ...renderServer(info)];
    ctx.stdout.write(lines.join('\n') + '\n');
    for (const warning of info.Warnings ?? []) ctx.stderr.write(`${warning}\n`);
    return 0;
  },
});
