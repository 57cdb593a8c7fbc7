/** Facts about the host that `GET /info` and `GET /version` report, read from the kernel. */
import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';

export type CgroupMode = 'unified' | 'hybrid' | 'legacy';

export interface HostFacts {
  kernelVersion: string;
  operatingSystem: string;
  osVersion: string;
  architecture: string;
  goArch: string;
  ncpu: number;
  memTotal: number;
  hostname: string;
  cgroupMode: CgroupMode;
  seccompSupported: boolean;
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** cgroup v2 only (unified), v1 with a v2 hierarchy beside it (hybrid), or v1 only (legacy). */
export async function detectCgroupMode(root = '/sys/fs/cgroup'): Promise<CgroupMode> {
  const type = async (path: string) => (await statfs(path).catch(() => undefined))?.type;
  if ((await type(root)) === CGROUP2_SUPER_MAGIC) return 'unified';
  return (await type(`${root}/unified`)) === CGROUP2_SUPER_MAGIC ? 'hybrid' : 'legacy';
}

async function readOsRelease(): Promise<{ pretty: string; version: string }> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const field = (key: string) => new RegExp(`^${key}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1];
  return { pretty: field('PRETTY_NAME') ?? 'Linux', version: field('VERSION_ID') ?? '' };
}

/** Go's GOARCH names, which Docker reports (x64 -> amd64). */
export function goArchitecture(nodeArch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[nodeArch] ?? nodeArch;
}

export async function probeHost(): Promise<HostFacts> {
  const [release, cgroupMode, status] = await Promise.all([
    readOsRelease(),
    detectCgroupMode(),
    readFile('/proc/self/status', 'utf8').catch(() => ''),
  ]);
  return {
    kernelVersion: os.release(),
    operatingSystem: release.pretty,
    osVersion: release.version,
    architecture: os.machine(),
    goArch: goArchitecture(),
    ncpu: os.availableParallelism(),
    memTotal: os.totalmem(),
    hostname: os.hostname(),
    cgroupMode,
    seccompSupported: /^Seccomp:\s*\d/m.test(status),
  };
}
