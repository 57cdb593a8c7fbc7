/**
 * The engines berth is measured against, each started on its own socket and data root and
 * stopped by the benchmark that started it (never a Docker or Podman it did not start).
 */
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DockerPeer {
  host: string;
  stop(): Promise<void>;
}

// This machine has no CAP_SYS_RESOURCE: podman's default rlimits (above the current hard limit)
// cannot be set, so it gets the limits the benchmark has.
export const PODMAN_ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];

export const dockerdAvailable = existsSync('/usr/sbin/dockerd');
export const podmanAvailable = existsSync('/usr/bin/podman');

/**
 * dockerd with its own data and exec roots and no iptables changes; no bridge, or `bridge` (one
 * the caller made) so that published ports go through docker-proxy, Docker's loopback path.
 */
export async function startDockerd(root: string, bridge = 'none'): Promise<DockerPeer> {
  const socket = join(root, 'docker.sock');
  const pidfile = join(root, 'docker.pid');
  const child = spawn('dockerd', ['--data-root', join(root, 'data'), '--exec-root', join(root, 'exec'), '-H', `unix://${socket}`, '--pidfile', pidfile, `--bridge=${bridge}`, '--iptables=false', '--ip6tables=false', '--ip-masq=false'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    const ok = await run('docker', ['-H', `unix://${socket}`, 'version', '--format', '{{.Server.Version}}']).then(() => true, () => false);
    if (ok) break;
    if (child.exitCode !== null || i > 150) throw new Error('dockerd did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: `unix://${socket}`,
    stop: async () => {
      const pid = Number((await readFile(pidfile, 'utf8').catch(() => '')).trim()) || child.pid;
      if (pid) process.kill(pid, 'SIGTERM');
      await exited;
    },
  };
}

/** podman arguments for a private storage root (overlay, as podman uses by default as root). */
export function podmanArgs(root: string): string[] {
  // runc as berth uses here; crun 1.8 is refused on this hybrid cgroup layout.
  return ['--root', join(root, 'storage'), '--runroot', join(root, 'run'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', '--runtime', 'runc'];
}

export async function removePodmanRoot(root: string): Promise<void> {
  await run('podman', [...podmanArgs(root), 'system', 'reset', '-f']).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
}
