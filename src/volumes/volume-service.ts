/**
 * The local volume driver: each volume is a directory under `<data-root>/volumes/<name>/_data`
 * with its record beside it (`volume.json`, written temp-then-rename). With DriverOpts (type,
 * device, o) the directory is a mount point, mounted while a container uses it, as Docker's local
 * driver does for tmpfs and bind devices.
 */
import { matchesLabelFilters } from '../lib/label-filter.js';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.js';
import type { CommandRunner } from '../lib/command-runner.js';
import { ConflictError, InternalError, InvalidArgumentError, NotFoundError, errnoCode } from '../lib/errors.js';
import type { NewEvent } from '../events/index.js';

export interface VolumeRecord {
  name: string;
  driver: 'local';
  labels: Record<string, string>;
  options: Record<string, string>;
  createdAt: string;
  /** Created for an image VOLUME or a `-v /path` without a name: `rm -v` and prune take it. */
  anonymous: boolean;
}

export interface VolumeServiceDeps {
  root: string;
  runner: CommandRunner;
  nowIso: () => string;
  publish: (event: NewEvent) => void;
  /** IDs of the containers (any state) that reference a volume. */
  usersOf: (name: string) => string[];
  /** IDs of the running containers that mount it. */
  runningUsersOf: (name: string) => string[];
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function checkVolumeName(name: string): void {
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

export class VolumeService {
  private readonly volumes = new Map<string, VolumeRecord>();

  constructor(private readonly deps: VolumeServiceDeps) {}

  async load(): Promise<void> {
    await mkdir(this.deps.root, { recursive: true });
    for (const name of await readdir(this.deps.root)) {
      try {
        const record = JSON.parse(await readFile(join(this.deps.root, name, 'volume.json'), 'utf8')) as VolumeRecord;
        this.volumes.set(record.name, record);
      } catch (err) {
        // A directory without its record is a create that never finished: nothing refers to it.
        if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) await rm(join(this.deps.root, name), { recursive: true, force: true });
        else throw err;
      }
    }
  }

  mountpoint(name: string): string {
    return join(this.deps.root, name, '_data');
  }

  list(): VolumeRecord[] {
    return [...this.volumes.values()];
  }

  get(name: string): VolumeRecord {
    const record = this.volumes.get(name);
    if (!record) throw new NotFoundError(`get ${name}: no such volume`);
    return record;
  }

  /** Creates a volume, or returns the existing one of that name (as Docker does). */
  async create(request: { name?: string; driver?: string; options?: Record<string, string>; labels?: Record<string, string>; anonymous?: boolean }): Promise<VolumeRecord> {
    const driver = request.driver || 'local';
    if (driver !== 'local') throw new InvalidArgumentError(`not supported by berth yet: volume driver ${driver} (only local)`);
    const anonymous = request.anonymous ?? !request.name;
    const name = request.name || randomBytes(32).toString('hex');
    checkVolumeName(name);
    const existing = this.volumes.get(name);
    if (existing) return existing;
    const options = request.options ?? {};
    for (const key of Object.keys(options)) {
      if (!['type', 'device', 'o', 'size'].includes(key)) throw new InvalidArgumentError(`invalid option key: "${key}"`);
    }
    if ((options['type'] || options['device']) && !(options['type'] && options['device'])) throw new InvalidArgumentError('missing required option: "type" and "device" go together');
    const record: VolumeRecord = { name, driver: 'local', labels: { ...(request.labels ?? {}), ...(anonymous ? { 'com.docker.volume.anonymous': '' } : {}) }, options, createdAt: this.deps.nowIso(), anonymous };
    const dir = join(this.deps.root, name);
    try {
      await mkdir(join(dir, '_data'), { recursive: true, mode: 0o755 });
      await writeFileAtomic(join(dir, 'volume.json'), JSON.stringify(record));
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    this.volumes.set(name, record);
    this.deps.publish({ Type: 'volume', Action: 'create', Actor: { ID: name, Attributes: { driver: 'local' } } });
    return record;
  }

  /** DELETE /volumes/{name}: refused while a container references it (force still refuses then). */
  async remove(name: string, options: { force?: boolean } = {}): Promise<void> {
    const record = this.volumes.get(name);
    if (!record) {
      if (options.force) return;
      throw new NotFoundError(`get ${name}: no such volume`);
    }
    const users = this.deps.usersOf(name);
    if (users.length > 0) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    await this.unmount(record).catch(() => undefined);
    this.volumes.delete(name);
    // The record goes first: a crash midway leaves a directory that load() clears.
    await rm(join(this.deps.root, name, 'volume.json'), { force: true });
    await rm(join(this.deps.root, name), { recursive: true, force: true });
    this.deps.publish({ Type: 'volume', Action: 'destroy', Actor: { ID: name, Attributes: { driver: 'local' } } });
  }

  /** POST /volumes/prune: unused anonymous volumes, or with `all` every unused volume. */
  async prune(options: { all: boolean; labels: string[] }): Promise<{ deleted: string[]; reclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const record of this.list()) {
      if (!options.all && !record.anonymous) continue;
      if (this.deps.usersOf(record.name).length > 0) continue;
      if (!matchesLabelFilters(record.labels, options.labels)) continue;
      const size = await this.size(record.name);
      await this.remove(record.name).then(() => {
        deleted.push(record.name);
        reclaimed += size;
      }, () => undefined);
    }
    return { deleted, reclaimed };
  }

  /** Makes the volume's directory ready for a container: mounts it when it has DriverOpts. */
  async prepare(name: string): Promise<string> {
    const record = this.get(name);
    const target = this.mountpoint(name);
    if (record.options['type'] && !(await this.isMounted(target))) {
      const args = ['-t', record.options['type']!, ...(record.options['o'] ? ['-o', record.options['o']] : []), record.options['device']!, target];
      const result = await this.deps.runner.run('mount', args);
      if (result.exitCode !== 0) throw new InternalError(`error while mounting volume '${target}': ${result.stderr.trim()}`);
      this.deps.publish({ Type: 'volume', Action: 'mount', Actor: { ID: name, Attributes: { driver: 'local' } } });
    }
    return target;
  }

  /** A container using it stopped: a volume with DriverOpts is unmounted when no running one is left. */
  async release(name: string): Promise<void> {
    const record = this.volumes.get(name);
    if (record?.options['type'] && this.deps.runningUsersOf(name).length === 0) await this.unmount(record);
  }

  private async unmount(record: VolumeRecord): Promise<void> {
    const target = this.mountpoint(record.name);
    if (record.options['type'] && (await this.isMounted(target))) {
      await this.deps.runner.run('umount', [target]);
      this.deps.publish({ Type: 'volume', Action: 'unmount', Actor: { ID: record.name, Attributes: { driver: 'local' } } });
    }
  }

  private async isMounted(target: string): Promise<boolean> {
    const mounts = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
    return mounts.split('\n').some((line) => line.split(' ')[4] === target);
  }

  /** Whether the directory has no entries (copy-up happens only into an empty volume). */
  async isEmpty(name: string): Promise<boolean> {
    return (await readdir(this.mountpoint(name)).catch(() => [])).length === 0;
  }

  /** Bytes under the volume (for df and prune's SpaceReclaimed). */
  async size(name: string): Promise<number> {
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else total += await stat(path).then((s) => s.size, () => 0);
      }
    };
    await walk(this.mountpoint(name));
    return total;
  }
}

