/**
 * The local volume driver: each volume is a directory under `<data-root>/volumes/<name>/_data`
 * with its record beside it (`volume.json`, written temp-then-rename). With DriverOpts (type,
 * device, o) the directory is a mount point, mounted while a container uses it, as Docker's local
 * driver does for tmpfs and bind devices. Removal never recurses into a mount: with a bind device
 * that would delete the host directory's files.
 */
import { matchesLabelFilters } from '../lib/label-filter.js';
import { chmod, mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { syncDirectory, writeFileAtomic } from '../lib/atomic-file.js';
import { ensureDirectoryMode } from '../lib/directory-mode.js';
import type { CommandRunner } from '../lib/command-runner.js';
import { ConflictError, FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError, errnoCode } from '../lib/errors.js';
import type { NewEvent } from '../events/index.js';
import { mountPointsWithin, readMountinfo } from './mount-points.js';
import { ANONYMOUS_LABEL, type VolumeRecord } from './volume-record.js';
import { scanVolumes, VOLUME_DATA_MODE, VOLUME_DIR_MODE, type VolumeLog } from './volume-scan.js';

export type { VolumeRecord } from './volume-record.js';

export interface VolumeServiceDeps {
  root: string;
  runner: CommandRunner;
  nowIso: () => string;
  publish: (event: NewEvent) => void;
  log: VolumeLog;
  /** IDs of the containers (any state) that reference a volume. */
  usersOf: (name: string) => string[];
  /** IDs of the running containers that mount it. */
  runningUsersOf: (name: string) => string[];
  /** The mount table (default: /proc/self/mountinfo). */
  mountinfo?: () => Promise<string>;
}

/** `<data-root>/volumes`: traversable by name only, as dockerd makes it; each volume's own directory is 0700. */
export const VOLUMES_ROOT_MODE = 0o701;

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function checkVolumeName(name: string): void {
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

export class VolumeService {
  private readonly volumes = new Map<string, VolumeRecord>();
  /** Volumes whose directory exists but could not be read at start: their names stay taken. */
  private readonly unreadable = new Set<string>();
  /** Creates in flight, so two at once of one name both get the one volume. */
  private readonly creating = new Map<string, Promise<VolumeRecord>>();

  constructor(private readonly deps: VolumeServiceDeps) {}

  /** Finds the volumes on disk, keeping every one that may hold data (see volume-scan.ts). */
  async load(): Promise<void> {
    await ensureDirectoryMode(this.deps.root, VOLUMES_ROOT_MODE);
    const scan = await scanVolumes(this.deps.root, { log: this.deps.log, mountinfo: this.readMountinfo });
    for (const record of scan.records) this.volumes.set(record.name, record);
    for (const name of scan.unreadable) this.unreadable.add(name);
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
    const existing = this.volumes.get(name) ?? this.creating.get(name);
    if (existing) return existing;
    const options = request.options ?? {};
    for (const key of Object.keys(options)) {
      if (!['type', 'device', 'o', 'size'].includes(key)) throw new InvalidArgumentError(`invalid option key: "${key}"`);
    }
    if ((options['type'] || options['device']) && !(options['type'] && options['device'])) throw new InvalidArgumentError('missing required option: "type" and "device" go together');
    if (this.unreadable.has(name)) throw new ConflictError(`create ${name}: ${join(this.deps.root, name)} exists but berthd could not read it at start (see its log); it was left untouched`);
    const record: VolumeRecord = { name, driver: 'local', labels: { ...(request.labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) }, options, createdAt: this.deps.nowIso(), anonymous };
    const made = this.make(record).finally(() => this.creating.delete(name));
    this.creating.set(name, made);
    return made;
  }

  private async make(record: VolumeRecord): Promise<VolumeRecord> {
    const dir = join(this.deps.root, record.name);
    // Not recursive: an existing directory is someone else's data, never adopted or removed here.
    await mkdir(dir, { mode: VOLUME_DIR_MODE }).catch((err: unknown) => {
      if (errnoCode(err) === 'EEXIST') throw new ConflictError(`create ${record.name}: ${dir} already exists and is not a volume berthd knows; it was left untouched`);
      throw err;
    });
    try {
      await mkdir(join(dir, '_data'), { mode: VOLUME_DATA_MODE });
      await chmod(join(dir, '_data'), VOLUME_DATA_MODE); // whatever berthd's umask
      await writeFileAtomic(join(dir, 'volume.json'), JSON.stringify(record));
      await syncDirectory(this.deps.root);
    } catch (err) {
      await rm(dir, { recursive: true, force: true }); // made just now: an empty `_data` at most
      throw err;
    }
    this.volumes.set(record.name, record);
    this.deps.publish({ Type: 'volume', Action: 'create', Actor: { ID: record.name, Attributes: { driver: 'local' } } });
    return record;
  }

  /**
   * DELETE /volumes/{name}: refused while a container references it (force still refuses then),
   * and while anything is mounted in its directory (its device could not be unmounted).
   */
  async remove(name: string, options: { force?: boolean } = {}): Promise<void> {
    const record = this.volumes.get(name);
    if (!record) {
      if (options.force) return;
      throw new NotFoundError(`get ${name}: no such volume`);
    }
    const users = this.deps.usersOf(name);
    if (users.length > 0) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    const dir = join(this.deps.root, name);
    const data = this.mountpoint(name);
    const umountError = record.options['type'] ? await this.unmount(record) : undefined;
    const mounted = mountPointsWithin(dir, await this.readMountinfo());
    if (mounted.length > 0) {
      throw new ConflictError(`remove ${name}: volume is in use - ${mounted[0]} is still mounted${umountError ? ` (${umountError})` : ''}`);
    }
    // The data goes first and the record last: a crash midway leaves a volume that is still listed.
    if (record.options['type']) {
      // Only a mount point: anything in it was written while the device was not mounted, so it stays.
      await rmdir(data).catch((err: unknown) => {
        if (errnoCode(err) === 'ENOTEMPTY') throw new FailedPreconditionError(`remove ${name}: ${data} holds files although its device is not mounted; they were left untouched`);
        if (errnoCode(err) !== 'ENOENT') throw err;
      });
    } else {
      await rm(data, { recursive: true, force: true });
    }
    await rm(dir, { recursive: true, force: true });
    this.volumes.delete(name);
    this.deps.publish({ Type: 'volume', Action: 'destroy', Actor: { ID: name, Attributes: { driver: 'local' } } });
  }

  /** POST /volumes/prune: unused anonymous volumes, or with `all` every unused volume; one that cannot be removed is skipped. */
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
    if (record.options['type'] && !(await this.isMountPoint(target))) {
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
    if (!record?.options['type'] || this.deps.runningUsersOf(name).length > 0) return;
    const umountError = await this.unmount(record);
    if (umountError) throw new InternalError(`error while unmounting volume '${this.mountpoint(name)}': ${umountError}`);
  }

  /** Unmounts a volume's device if it is mounted; returns umount's complaint when that failed. */
  private async unmount(record: VolumeRecord): Promise<string | undefined> {
    const target = this.mountpoint(record.name);
    if (!(await this.isMountPoint(target))) return undefined;
    const result = await this.deps.runner.run('umount', [target]);
    if (result.exitCode !== 0) return result.stderr.trim() || `umount exited with ${result.exitCode}`;
    this.deps.publish({ Type: 'volume', Action: 'unmount', Actor: { ID: record.name, Attributes: { driver: 'local' } } });
    return undefined;
  }

  private async isMountPoint(path: string): Promise<boolean> {
    return mountPointsWithin(path, await this.readMountinfo()).includes(path);
  }

  private readonly readMountinfo = (): Promise<string> => (this.deps.mountinfo ?? readMountinfo)();

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

