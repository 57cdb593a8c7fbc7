/**
 * Layers and snapshots on overlayfs, laid out as overlay2 does: each layer unpacked once into
 * layers/<chain>/diff, named by a short link in l/ so that a deep chain's mount options stay
 * under the page size; snapshots get upper/ and work/ over the read-only chain.
 */
import { mkdir, readFile, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { applyLayer } from '../archive/layer-apply.js';
import { syncDirectory, writeFileAtomic } from '../lib/atomic-file.js';
import { ensureDirectoryMode } from '../lib/directory-mode.js';
import type { CommandRunner } from '../lib/command-runner.js';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, errnoCode } from '../lib/errors.js';
import { digestHex, type Digest } from '../content/digest.js';
import { syncFilesystem } from './sync-filesystem.js';
import { chainIdOf, type LayerInfo, type LayerSource, type Mount, type Snapshotter } from './snapshotter.js';

interface LayerRecord extends LayerInfo {
  link: string;
}

const LINK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const PAGE_SIZE = 4096;

function newLinkName(): string {
  const bytes = randomBytes(26);
  return Array.from(bytes, (b) => LINK_ALPHABET[b % LINK_ALPHABET.length]).join('');
}

/**
 * A layer's record, or undefined when there is none to trust (never written, or not a record).
 * Any other read error is thrown: a layer is never removed because a read failed.
 */
async function readLayerRecord(dir: string): Promise<LayerRecord | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'layer.json'), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    const record = JSON.parse(text) as LayerRecord;
    return typeof record.chainId === 'string' && typeof record.link === 'string' && /^[A-Z0-9]{26}$/.test(record.link) ? record : undefined;
  } catch {
    return undefined;
  }
}

export class OverlaySnapshotter implements Snapshotter {
  private readonly records = new Map<Digest, LayerRecord>();
  /** Chains being moved into place right now. */
  private readonly committing = new Map<Digest, Promise<void>>();

  private constructor(
    private readonly root: string,
    private readonly runner: CommandRunner,
    private readonly limits: { maxUnpackedBytes?: number } = {},
  ) {}

  /**
   * Opens the store and finishes or undoes what a crash left half done: staging dirs are removed,
   * a layer whose record was never written is removed (a pull unpacks it again), a recorded layer
   * missing its short link gets it back, and links to no layer are dropped. Only ENOENT means
   * "absent": any other read error stops the open rather than delete a layer.
   */
  static async open(root: string, runner: CommandRunner, limits: { maxUnpackedBytes?: number | undefined } = {}): Promise<OverlaySnapshotter> {
    const store = new OverlaySnapshotter(root, runner, limits.maxUnpackedBytes === undefined ? {} : { maxUnpackedBytes: limits.maxUnpackedBytes });
    await ensureDirectoryMode(root, 0o700); // layers and containers' upper dirs hold setuid files
    for (const dir of ['layers', 'l', 'snapshots']) await mkdir(join(root, dir), { recursive: true, mode: 0o700 });
    await rm(join(root, 'tmp'), { recursive: true, force: true });
    await mkdir(join(root, 'tmp'), { mode: 0o700 });
    for (const hex of await readdir(join(root, 'layers'))) {
      const record = await readLayerRecord(join(root, 'layers', hex));
      if (record && digestHex(record.chainId) === hex) store.records.set(record.chainId, record);
      else await rm(join(root, 'layers', hex), { recursive: true, force: true });
    }
    await store.reconcileLinks();
    return store;
  }

  /** Every recorded layer has its link in l/; every link in l/ names a recorded layer. */
  private async reconcileLinks(): Promise<void> {
    const linksDir = join(this.root, 'l');
    const wanted = new Map([...this.records.values()].map((r) => [r.link, `../layers/${digestHex(r.chainId)}/diff`]));
    let changed = false;
    for (const name of await readdir(linksDir)) {
      const target = await readlink(join(linksDir, name)).catch((err: unknown) => {
        if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'EINVAL') return undefined;
        throw err;
      });
      if (target !== undefined && wanted.get(name) === target) {
        wanted.delete(name);
        continue;
      }
      await rm(join(linksDir, name), { recursive: true, force: true });
      changed = true;
    }
    for (const [name, target] of wanted) {
      await symlink(target, join(linksDir, name));
      changed = true;
    }
    if (changed) await syncDirectory(linksDir);
  }

  /** Keys of every snapshot directory, finished or not (for the owner's reconcile). */
  async keys(): Promise<string[]> {
    return (await readdir(join(this.root, 'snapshots'))).filter((name) => !name.startsWith('.'));
  }

  layer(chainId: Digest): LayerInfo | undefined {
    const record = this.records.get(chainId);
    return record && { chainId: record.chainId, diffId: record.diffId, parent: record.parent, size: record.size };
  }

  layers(): LayerInfo[] {
    return [...this.records.keys()].map((id) => this.layer(id)!);
  }

  async applyLayer(parent: Digest | undefined, source: Readable, expectedDiffId?: Digest): Promise<LayerInfo> {
    let used = false;
    const [info] = await this.applyLayers(parent, [{ open: () => ((used = true), source), diffId: expectedDiffId }]);
    if (!used) source.resume();
    return info!;
  }

  async applyLayers(parent: Digest | undefined, layers: readonly LayerSource[], concurrency = 3): Promise<LayerInfo[]> {
    if (parent && !this.records.has(parent)) throw new NotFoundError(`parent layer ${parent} does not exist`);
    // Layers whose chain is already here (known DiffIDs) are not unpacked again.
    const known: (LayerInfo | undefined)[] = [];
    let chain = parent;
    let chainComputable = true;
    for (const layer of layers) {
      chainComputable &&= layer.diffId !== undefined;
      chain = chainComputable ? chainIdOf(chain, layer.diffId!) : undefined;
      known.push(chain ? this.layer(chain) : undefined);
    }
    const staged: ({ dir: string; diffId: Digest; size: number } | undefined)[] = new Array(layers.length);
    const stagingDirs: string[] = [];
    try {
      let next = 0;
      const worker = async () => {
        while (next < layers.length) {
          const index = next++;
          if (known[index]) continue;
          const layer = layers[index]!;
          const dir = join(this.root, 'tmp', randomBytes(8).toString('hex'));
          stagingDirs.push(dir);
          await mkdir(join(dir, 'diff'), { recursive: true, mode: 0o755 });
          const result = await applyLayer(layer.open(), join(dir, 'diff'), { runner: this.runner, ...this.limits });
          if (layer.diffId && result.diffId !== layer.diffId) {
            throw new FailedPreconditionError(`layer digest mismatch: expected DiffID ${layer.diffId}, got ${result.diffId}`, { code: 'BERTH_DIGEST_MISMATCH' });
          }
          staged[index] = { dir, diffId: result.diffId, size: result.size };
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, layers.length)) }, worker));
      const infos: LayerInfo[] = [];
      let current = parent;
      for (const [index, stage] of staged.entries()) {
        const ready = known[index];
        if (ready) {
          infos.push(ready);
          current = ready.chainId;
          continue;
        }
        current = await this.commitStaged(current, stage!);
        infos.push(this.layer(current)!);
      }
      return infos;
    } finally {
      await Promise.all(stagingDirs.map((dir) => rm(dir, { recursive: true, force: true })));
    }
  }

  /**
   * Moves an unpacked layer into place as the child of `parent`; returns its chain ID. The files
   * reach the disk before the record does, and the link is made before the layer is used, so a
   * crash at any point leaves either no layer or one that open() completes.
   */
  private async commitStaged(parent: Digest | undefined, stage: { dir: string; diffId: Digest; size: number }): Promise<Digest> {
    const chainId = chainIdOf(parent, stage.diffId);
    // Two pulls may unpack the same layer at once: the second waits and uses the first's.
    for (let pending = this.committing.get(chainId); pending; pending = this.committing.get(chainId)) await pending.catch(() => undefined);
    if (this.records.has(chainId)) return chainId;
    const done = this.commitNew(parent, chainId, stage);
    this.committing.set(chainId, done);
    try {
      await done;
    } finally {
      this.committing.delete(chainId);
    }
    return chainId;
  }

  private async commitNew(parent: Digest | undefined, chainId: Digest, stage: { dir: string; diffId: Digest; size: number }): Promise<void> {
    const record: LayerRecord = { chainId, diffId: stage.diffId, parent, size: stage.size, link: newLinkName() };
    await syncFilesystem(join(stage.dir, 'diff'), this.runner);
    await writeFileAtomic(join(stage.dir, 'layer.json'), JSON.stringify(record));
    await rename(stage.dir, join(this.root, 'layers', digestHex(chainId)));
    await syncDirectory(join(this.root, 'layers'));
    await symlink(`../layers/${digestHex(chainId)}/diff`, join(this.root, 'l', record.link));
    await syncDirectory(join(this.root, 'l'));
    this.records.set(chainId, record);
  }

  async removeLayer(chainId: Digest): Promise<void> {
    const record = this.records.get(chainId);
    if (!record) return;
    for (const other of this.records.values()) {
      if (other.parent === chainId) throw new FailedPreconditionError(`layer ${chainId} is the parent of ${other.chainId}`);
    }
    this.records.delete(chainId);
    await rm(join(this.root, 'l', record.link), { force: true });
    // Rename first so a crash mid-delete leaves no record pointing at half a layer.
    const doomed = join(this.root, 'tmp', `rm-${digestHex(chainId)}`);
    await rename(join(this.root, 'layers', digestHex(chainId)), doomed).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
    await rm(doomed, { recursive: true, force: true });
  }

  /** Link names of the chain ending at `chainId`, topmost first. */
  private lowerLinks(chainId: Digest): string[] {
    const links: string[] = [];
    let current: Digest | undefined = chainId;
    while (current) {
      const record = this.records.get(current);
      if (!record) throw new NotFoundError(`layer ${current} does not exist`);
      links.push(`l/${record.link}`);
      current = record.parent;
    }
    return links;
  }

  private snapshotDir(key: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(key)) throw new InvalidArgumentError(`invalid snapshot key "${key}"`);
    return join(this.root, 'snapshots', key);
  }

  upperDir(key: string): string {
    return join(this.snapshotDir(key), 'upper');
  }

  async lowerDirs(key: string): Promise<string[]> {
    const meta = JSON.parse(await readFile(join(this.snapshotDir(key), 'snapshot.json'), 'utf8')) as { parent: Digest | null };
    return meta.parent ? this.lowerLinks(meta.parent).map((link) => join(this.root, link)) : [];
  }

  async prepare(key: string, parent: Digest | undefined): Promise<Mount[]> {
    const dir = this.snapshotDir(key);
    if (parent && !this.records.has(parent)) throw new NotFoundError(`layer ${parent} does not exist`);
    await mkdir(join(dir, 'upper'), { recursive: true, mode: 0o755 });
    await mkdir(join(dir, 'work'), { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(dir, 'snapshot.json'), JSON.stringify({ key, parent: parent ?? null }));
    return this.mounts(key);
  }

  async mounts(key: string): Promise<Mount[]> {
    const dir = this.snapshotDir(key);
    let meta: { parent: Digest | null };
    try {
      meta = JSON.parse(await readFile(join(dir, 'snapshot.json'), 'utf8')) as { parent: Digest | null };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new NotFoundError(`snapshot ${key} does not exist`);
      throw err;
    }
    if (!meta.parent) return [{ type: 'bind', source: join(dir, 'upper'), options: ['rbind', 'rw'] }];
    const lower = this.lowerLinks(meta.parent).join(':');
    const options = [`lowerdir=${lower}`, `upperdir=${join(dir, 'upper')}`, `workdir=${join(dir, 'work')}`, 'index=off'];
    if (options.join(',').length >= PAGE_SIZE) {
      throw new FailedPreconditionError(`the image has too many layers for one overlay mount (${this.lowerLinks(meta.parent).length})`);
    }
    return [{ type: 'overlay', source: 'overlay', options, cwd: this.root }];
  }

  async remove(key: string): Promise<void> {
    await rm(this.snapshotDir(key), { recursive: true, force: true });
  }
}
