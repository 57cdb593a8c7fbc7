/**
 * A container's filesystem: its rootfs (the overlay snapshot mounted in the bundle), the holds that
 * keep a stopped container's rootfs mounted while export, cp or the builder use it, the view its
 * processes have (for cp), and what changed in it (diff, the layer of a commit, its size).
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { CommandRunner } from '../lib/command-runner.js';
import type { Snapshotter } from '../snapshots/index.js';
import { mountAll, unmount } from '../snapshots/mount.js';
import { layerDiff } from '../archive/layer-diff.js';
import { OPAQUE_XATTR } from '../archive/layer-apply.js';
import { dumpXattrs } from '../archive/xattr-dump.js';
import { RootedFilesystem, type RootedMount } from '../archive/rooted-path.js';
import type { ContainerRecord } from './container-record.js';
import { containerChanges, type Change } from './container-changes.js';

export interface ContainerFilesystemDeps {
  snapshotter: Snapshotter;
  runner: CommandRunner;
  /** The container's bundle (where the rootfs is mounted). */
  bundleDir(id: string): string;
  /** The container's data directory (the generated hosts, hostname and resolv.conf). */
  dataDir(id: string): string;
  /** The container's state now, undefined once it is gone. */
  statusOf(id: string): string | undefined;
  /** A volume's directory, mounted if its options need it. */
  volumePath(name: string): Promise<string>;
}

const ACTIVE = new Set(['running', 'paused', 'restarting']);

export class ContainerFilesystem {
  /** Callers from outside (export, cp, the builder) that need a rootfs mounted, by container. */
  private readonly holds = new Map<string, number>();

  constructor(private readonly deps: ContainerFilesystemDeps) {}

  rootfs(id: string): string {
    return join(this.deps.bundleDir(id), 'rootfs');
  }

  async mount(record: ContainerRecord): Promise<void> {
    const target = this.rootfs(record.id);
    await mkdir(target, { recursive: true });
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    if (mounts.includes(` ${target} `)) return;
    await mountAll(await this.deps.snapshotter.mounts(record.id), target, this.deps.runner);
  }

  async unmount(id: string): Promise<void> {
    const target = this.rootfs(id);
    const mounts = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
    if (mounts.includes(` ${target} `)) await unmount(target, this.deps.runner);
  }

  /** Unmounts after the container stopped, unless a reader or writer still holds the rootfs. */
  async unmountIfUnheld(id: string): Promise<void> {
    if (!this.holds.has(id)) await this.unmount(id);
  }

  /** Keeps the rootfs mounted until every hold is released (or the container runs by then). */
  private async hold(record: ContainerRecord): Promise<void> {
    this.holds.set(record.id, (this.holds.get(record.id) ?? 0) + 1);
    try {
      await this.mount(record);
    } catch (err) {
      await this.release(record.id);
      throw err;
    }
  }

  private async release(id: string): Promise<void> {
    const left = (this.holds.get(id) ?? 1) - 1;
    if (left > 0) {
      this.holds.set(id, left);
      return;
    }
    this.holds.delete(id);
    if (!ACTIVE.has(this.deps.statusOf(id) ?? '')) await this.unmount(id).catch(() => undefined);
  }

  /**
   * The filesystem as the container's processes see it, for docker cp and the builder: a running
   * container's through /proc/<pid>/root (its own mounts included), a stopped one's rootfs mounted
   * for the call with its volumes, binds and generated /etc files mapped in as runc mounts them.
   */
  async open(record: ContainerRecord): Promise<{ record: ContainerRecord; fs: RootedFilesystem; release: () => Promise<void> }> {
    if ((record.state.status === 'running' || record.state.status === 'paused') && record.state.pid) {
      return { record, fs: new RootedFilesystem(`/proc/${record.state.pid}/root`), release: async () => undefined };
    }
    await this.hold(record);
    try {
      const dataDir = this.deps.dataDir(record.id);
      const mounts: RootedMount[] = [];
      for (const file of ['hosts', 'hostname', 'resolv.conf']) {
        if (await stat(join(dataDir, file)).then(() => true, () => false)) mounts.push({ destination: `/etc/${file}`, source: join(dataDir, file) });
      }
      for (const m of record.mounts ?? []) {
        if (m.Type === 'volume') mounts.push({ destination: m.Destination, source: await this.deps.volumePath(m.Name!) });
        else if (m.Type === 'bind') mounts.push({ destination: m.Destination, source: m.Source });
      }
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        await this.release(record.id);
      };
      return { record, fs: new RootedFilesystem(this.rootfs(record.id), mounts), release };
    } catch (err) {
      await this.release(record.id);
      throw err;
    }
  }

  /**
   * The whole filesystem as one tar (GNU tar over the overlay mount). The mount points (/etc/hosts
   * and co., volumes) show as the image has them, as in Docker's export.
   */
  async export(record: ContainerRecord): Promise<{ stream: NodeJS.ReadableStream; done: () => Promise<void> }> {
    await this.hold(record);
    const child = spawn('tar', ['--numeric-owner', '--xattrs', '-C', this.rootfs(record.id), '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let finished: Promise<void> | undefined;
    const finish = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('close', r)));
      await this.release(record.id);
    };
    return { stream: child.stdout!, done: () => (finished ??= finish()) };
  }

  /** Paths that are mounted over, not the container's own files: the generated /etc files, volumes, tmpfs. */
  mountPointsOf(record: ContainerRecord): string[] {
    return ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/sbin/docker-init', ...(record.mounts ?? []).map((m) => m.Destination), ...Object.keys((record.hostConfig['Tmpfs'] as Record<string, string> | undefined) ?? {})];
  }

  /** The writable layer as an OCI layer tar (whiteouts for deletions), mount points left out. */
  diffLayer(record: ContainerRecord): Readable {
    const excluded = new Set(this.mountPointsOf(record).map((p) => p.replace(/^\//, '')));
    return Readable.from(layerDiff(this.deps.snapshotter.upperDir(record.id), this.deps.runner, excluded));
  }

  async changes(record: ContainerRecord): Promise<Change[]> {
    const upper = this.deps.snapshotter.upperDir(record.id);
    const xattrs = await dumpXattrs(upper, this.deps.runner);
    const isOpaque = (path: string) => xattrs.get(join(upper, path))?.get(OPAQUE_XATTR)?.toString() === 'y';
    return containerChanges(upper, await this.deps.snapshotter.lowerDirs(record.id), this.mountPointsOf(record), isOpaque);
  }

  /** Bytes of the regular files in the writable layer (what removing the container gives back). */
  async writableSize(id: string): Promise<number> {
    let total = 0;
    const dir = this.deps.snapshotter.upperDir(id);
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
      if (entry.isFile()) total += await stat(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name)).then((s) => s.size, () => 0);
    }
    return total;
  }
}
