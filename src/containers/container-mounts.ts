/**
 * A container's volumes and mounts, decided at create as Docker does: -v (Binds), --mount
 * (Mounts), --volumes-from, and an anonymous volume for each image or config VOLUME path not
 * otherwise mounted. The result is kept in the container's record and shown in inspect's Mounts.
 */
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { isAbsolute, posix } from 'node:path';
import { InvalidArgumentError } from '../lib/errors.js';
import { checkVolumeName } from '../volumes/volume-service.js';

export interface MountRecord {
  Type: 'volume' | 'bind' | 'tmpfs';
  /** The volume's name (volumes only). */
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Do not copy the image's files into an empty volume. */
  NoCopy?: boolean;
  /** -v host paths are created when missing; --mount type=bind sources must exist. */
  CreateSource?: boolean;
  TmpfsSizeBytes?: number;
  TmpfsMode?: number;
}

export interface MountInput {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> }; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: unknown } | null;
}

export interface MountPlanDeps {
  /** Creates (or finds) a volume; resolves to its name. */
  ensureVolume(request: { name?: string; options?: Record<string, string>; labels?: Record<string, string>; anonymous: boolean }): Promise<string>;
  volumeMountpoint(name: string): string;
  /** The mounts of another container (for --volumes-from). */
  mountsOf(container: string): MountRecord[];
}

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

function checkTarget(type: string, target: string | undefined): string {
  if (!target) throw new InvalidArgumentError(`invalid mount config for type "${type}": field Target must not be empty`);
  if (!isAbsolute(target)) throw new InvalidArgumentError(`invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`);
  return posix.normalize(target);
}

/** One -v entry: "name:/path[:opts]", "/host:/path[:opts]" or "/path" (anonymous). */
async function fromBind(spec: string, deps: MountPlanDeps): Promise<MountRecord> {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new InvalidArgumentError(`invalid volume specification: '${spec}'`);
  let source = '';
  let destination: string;
  let mode = '';
  if (parts.length === 1) destination = parts[0]!;
  else if (parts.length === 2 && isAbsolute(parts[1]!)) [source, destination] = [parts[0]!, parts[1]!];
  else if (parts.length === 2) [destination, mode] = [parts[0]!, parts[1]!];
  else [source, destination, mode] = [parts[0]!, parts[1]!, parts[2]!];
  if (!isAbsolute(destination)) throw new InvalidArgumentError(`invalid volume specification: '${spec}': invalid mount config for type "volume": invalid mount path: '${destination}' mount path must be absolute`);
  const options = mode ? mode.split(',') : [];
  for (const option of options) {
    if (!['ro', 'rw', 'z', 'Z', 'nocopy', ...PROPAGATIONS].includes(option)) throw new InvalidArgumentError(`invalid volume specification: '${spec}': invalid mode: ${mode}`);
  }
  const rw = !options.includes('ro');
  const propagation = options.find((o) => PROPAGATIONS.includes(o));
  if (source && isAbsolute(source)) {
    if (options.includes('nocopy')) throw new InvalidArgumentError(`invalid volume specification: '${spec}': nocopy is only for volumes`);
    return { Type: 'bind', Source: posix.normalize(source), Destination: posix.normalize(destination), Mode: mode, RW: rw, Propagation: propagation ?? 'rprivate', CreateSource: true };
  }
  if (source) checkVolumeName(source);
  const name = await deps.ensureVolume({ name: source || undefined, anonymous: !source });
  return { Type: 'volume', Name: name, Source: deps.volumeMountpoint(name), Destination: posix.normalize(destination), Driver: 'local', Mode: mode || 'z', RW: rw, Propagation: '', NoCopy: options.includes('nocopy') };
}

async function fromMount(input: MountInput, deps: MountPlanDeps): Promise<MountRecord> {
  const type = input.Type ?? '';
  if (type === 'bind') {
    const target = checkTarget(type, input.Target);
    if (input.VolumeOptions) throw new InvalidArgumentError(`invalid mount config for type "bind": field VolumeOptions must not be specified`);
    if (input.TmpfsOptions) throw new InvalidArgumentError(`invalid mount config for type "bind": field TmpfsOptions must not be specified`);
    if (!input.Source) throw new InvalidArgumentError(`invalid mount config for type "bind": field Source must not be empty`);
    if (!isAbsolute(input.Source)) throw new InvalidArgumentError(`invalid mount config for type "bind": invalid mount path: '${input.Source}' mount path must be absolute`);
    const propagation = input.BindOptions?.Propagation || 'rprivate';
    if (!PROPAGATIONS.includes(propagation)) throw new InvalidArgumentError(`invalid mount config for type "bind": invalid propagation mode: ${propagation}`);
    return { Type: 'bind', Source: posix.normalize(input.Source), Destination: target, Mode: '', RW: !input.ReadOnly, Propagation: propagation, CreateSource: false };
  }
  if (type === 'volume') {
    const target = checkTarget(type, input.Target);
    if (input.BindOptions) throw new InvalidArgumentError(`invalid mount config for type "volume": field BindOptions must not be specified`);
    if (input.TmpfsOptions) throw new InvalidArgumentError(`invalid mount config for type "volume": field TmpfsOptions must not be specified`);
    if (input.VolumeOptions?.Subpath) throw new InvalidArgumentError('not supported by berth yet: volume-subpath');
    if (input.Source) checkVolumeName(input.Source);
    const driver = input.VolumeOptions?.DriverConfig?.Name;
    if (driver && driver !== 'local') throw new InvalidArgumentError(`not supported by berth yet: volume driver ${driver} (only local)`);
    const name = await deps.ensureVolume({ name: input.Source || undefined, options: input.VolumeOptions?.DriverConfig?.Options, labels: input.VolumeOptions?.Labels, anonymous: !input.Source });
    return { Type: 'volume', Name: name, Source: deps.volumeMountpoint(name), Destination: target, Driver: 'local', Mode: 'z', RW: !input.ReadOnly, Propagation: '', NoCopy: input.VolumeOptions?.NoCopy === true };
  }
  if (type === 'tmpfs') {
    const target = checkTarget(type, input.Target);
    if (input.Source) throw new InvalidArgumentError(`invalid mount config for type "tmpfs": field Source must not be specified`);
    if (input.BindOptions || input.VolumeOptions) throw new InvalidArgumentError(`invalid mount config for type "tmpfs": only TmpfsOptions may be given`);
    const size = input.TmpfsOptions?.SizeBytes;
    if (size !== undefined && size < 0) throw new InvalidArgumentError(`invalid mount config for type "tmpfs": invalid tmpfs size ${size}`);
    return { Type: 'tmpfs', Source: '', Destination: target, Mode: '', RW: !input.ReadOnly, Propagation: '', ...(size ? { TmpfsSizeBytes: size } : {}), ...(input.TmpfsOptions?.Mode ? { TmpfsMode: input.TmpfsOptions.Mode } : {}) };
  }
  throw new InvalidArgumentError(type ? `mount type unknown: ${type}` : 'invalid mount config: the mount type must be given');
}

/** Every mount of a new container, checked; volumes named or anonymous are created here. */
export async function planMounts(
  hostConfig: Record<string, unknown>,
  volumePaths: readonly string[],
  deps: MountPlanDeps,
): Promise<MountRecord[]> {
  const mounts: MountRecord[] = [];
  const add = (m: MountRecord) => {
    if (mounts.some((other) => other.Destination === m.Destination)) throw new InvalidArgumentError(`Duplicate mount point: ${m.Destination}`);
    mounts.push(m);
  };
  // A dry pass first (no volume is created), so bad input leaves nothing behind.
  const dry: MountPlanDeps = { ...deps, ensureVolume: async () => 'dry-run' };
  for (const spec of (hostConfig['Binds'] as string[] | null | undefined) ?? []) await fromBind(spec, dry);
  for (const input of (hostConfig['Mounts'] as MountInput[] | null | undefined) ?? []) await fromMount(input, dry);
  for (const spec of (hostConfig['Binds'] as string[] | null | undefined) ?? []) add(await fromBind(spec, deps));
  for (const input of (hostConfig['Mounts'] as MountInput[] | null | undefined) ?? []) add(await fromMount(input, deps));
  const tmpfs = Object.keys((hostConfig['Tmpfs'] as Record<string, string> | null | undefined) ?? {});
  for (const from of (hostConfig['VolumesFrom'] as string[] | null | undefined) ?? []) {
    const [container = '', mode] = from.split(':');
    if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw new InvalidArgumentError(`invalid mode for volumes-from: ${mode}`);
    for (const m of deps.mountsOf(container)) {
      if (m.Type === 'tmpfs' || mounts.some((x) => x.Destination === m.Destination)) continue;
      mounts.push({ ...m, RW: mode === 'ro' ? false : mode === 'rw' ? true : m.RW, NoCopy: true });
    }
  }
  // The image's (and the config's) VOLUME paths not otherwise mounted get anonymous volumes.
  for (const path of volumePaths) {
    const destination = posix.normalize(path);
    if (mounts.some((m) => m.Destination === destination) || tmpfs.includes(destination)) continue;
    const name = await deps.ensureVolume({ anonymous: true });
    mounts.push({ Type: 'volume', Name: name, Source: deps.volumeMountpoint(name), Destination: destination, Driver: 'local', Mode: '', RW: true, Propagation: '' });
  }
  return mounts;
}

/**
 * Makes a bind's host source ready before the container starts. A `-v` source that is missing
 * becomes a directory (as Docker's MkdirAll); one that exists, a file or a directory, is used as
 * it is. A `--mount` source must exist, as Docker checks it again at start.
 */
export async function prepareBindSource(mount: MountRecord): Promise<void> {
  const exists = await lstat(mount.Source).then(() => true, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return false;
    throw err;
  });
  if (exists) return;
  if (!mount.CreateSource) throw new InvalidArgumentError(`invalid mount config for type "bind": bind source path does not exist: ${mount.Source}`);
  await mkdir(mount.Source, { recursive: true, mode: 0o755 });
}

/** The host mount holding `path` (the longest mount point above it) and its propagation tags, from mountinfo. */
function hostMountOf(path: string, mountinfo: string): { mountPoint: string; shared: boolean; slave: boolean } {
  let best = { mountPoint: '/', shared: false, slave: false };
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (fields.length < 7 || separator < 6) continue;
    // Mount points escape space, tab, newline and backslash as octal.
    const mountPoint = fields[4]!.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    const above = mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);
    if (!above || mountPoint.length < best.mountPoint.length) continue;
    const tags = fields.slice(6, separator);
    best = { mountPoint, shared: tags.some((t) => t.startsWith('shared:')), slave: tags.some((t) => t.startsWith('master:')) };
  }
  return best;
}

/**
 * Checks the binds' propagation against the host, as moby does at start: a shared bind needs its
 * source on a shared host mount, a slave one on a shared or slave mount (else nothing would
 * propagate). Returns the rootfs propagation the container then needs, if not the default.
 */
export async function rootfsPropagationFor(mounts: readonly MountRecord[], mountinfo: string): Promise<string | undefined> {
  let rootfs: string | undefined;
  for (const m of mounts) {
    if (m.Type !== 'bind') continue;
    const shared = m.Propagation === 'shared' || m.Propagation === 'rshared';
    const slave = m.Propagation === 'slave' || m.Propagation === 'rslave';
    if (!shared && !slave) continue;
    const source = await realpath(m.Source);
    const host = hostMountOf(source, mountinfo);
    if (shared && !host.shared) throw new InvalidArgumentError(`path ${source} is mounted on ${host.mountPoint} but it is not a shared mount`);
    if (slave && !host.shared && !host.slave) throw new InvalidArgumentError(`path ${source} is mounted on ${host.mountPoint} but it is not a shared or slave mount`);
    rootfs = shared || rootfs === 'shared' ? 'shared' : 'rslave';
  }
  return rootfs;
}

/** inspect's Mounts: Docker's fields, in Docker's order. */
export function mountsJson(mounts: readonly MountRecord[]): Record<string, unknown>[] {
  return mounts.map((m) => ({
    Type: m.Type,
    ...(m.Name ? { Name: m.Name } : {}),
    Source: m.Source,
    Destination: m.Destination,
    ...(m.Driver ? { Driver: m.Driver } : {}),
    Mode: m.Mode,
    RW: m.RW,
    Propagation: m.Propagation,
  }));
}
