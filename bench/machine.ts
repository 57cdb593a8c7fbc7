/** The machine and tool versions a benchmark ran with, for bench/RESULTS.md. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function version(file: string, args: string[]): Promise<string> {
  return run(file, args).then((r) => (r.stdout || r.stderr).split('\n')[0]!.trim(), () => 'not installed');
}

export async function machineReport(): Promise<string> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const cgroup = / \/sys\/fs\/cgroup cgroup2 /.test(mounts) ? 'v2 (unified)' : / \/sys\/fs\/cgroup\/unified /.test(mounts) ? 'v1 hybrid (v2 at /sys/fs/cgroup/unified)' : 'v1';
  const lines = [
    `- cores: ${cpus().length} (${cpus()[0]?.model ?? 'unknown'})`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- kernel: ${release()}`,
    `- cgroup: ${cgroup}`,
    `- node: ${process.version}`,
    `- runc: ${await version('runc', ['--version'])}`,
    `- crun: ${await version('crun', ['--version'])}`,
    `- conmon: ${await version('conmon', ['--version'])}`,
    `- docker CLI: ${await version('docker', ['--version'])}`,
    `- dockerd: ${await version('dockerd', ['--version'])}`,
    `- podman: ${await version('podman', ['--version'])}`,
    `- skopeo: ${await version('skopeo', ['--version'])}`,
    `- GNU tar: ${await version('tar', ['--version'])}`,
    `- distribution (docker-registry): ${await version('docker-registry', ['--version'])}`,
  ];
  return lines.join('\n');
}
