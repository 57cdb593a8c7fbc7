/**
 * The image service: import, load, save, tag, remove, prune, list and inspect, over the content
 * store (blobs), the snapshotter (unpacked layers) and the image store (records and tags). Every
 * change runs under one lock, and blobs and layers that no image uses are collected afterwards.
 */
import type { Readable } from 'node:stream';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { LocalContentStore } from '../content/index.js';
import type { Digest } from '../content/digest.js';
import type { Snapshotter } from '../snapshots/index.js';
import { chainIds } from '../snapshots/index.js';
import type { Clock } from '../lib/clock.js';
import { Mutex } from '../lib/keyed-mutex.js';
import { BerthError, ConflictError, InvalidArgumentError, NotFoundError } from '../lib/errors.js';
import { detectCompression } from '../archive/compression.js';
import { MediaTypes, ociLayerMediaType, parseImageConfig, parseManifest, type Descriptor, type ContainerConfig, type ImageConfig, type ImageManifest, type Platform } from '../oci/index.js';
import type { NewEvent } from '../events/index.js';
import { ImageStore } from './image-store.js';
import { Leases, type Lease } from './leases.js';
import type { ImageRecord } from './image-record.js';
import { applyChanges } from './image-changes.js';
import { readImageArchive, type ArchiveImage } from './image-load.js';
import { writeImageArchive, type SaveItem } from './image-save.js';
import { familiarReference, parseNormalizedReference, repositoryName, withDefaultTag, assertValidTag, type ImageReference } from './reference.js';
import { toHistory, toImageInspect, toImageSummary, createdSeconds, type HistoryItem, type ImageInspect, type ImageSummary } from './image-json.js';
import { LIST_FILTER_KEYS, PRUNE_FILTER_KEYS, danglingFilter, matchesLabels, matchingTags, parseUntil, type FilterMap } from './image-filters.js';

/** Which containers use an image (the container service provides it). */
export interface ImageUsage {
  containersUsing(imageId: Digest): { id: string; running: boolean }[];
  /** Layer chains that writable snapshots stand on. */
  chainsInUse(): Digest[];
}

export interface ImageServiceDeps {
  content: LocalContentStore;
  snapshotter: Snapshotter;
  store: ImageStore;
  clock: Clock;
  publish: (event: NewEvent) => void;
  platform: Platform;
  usage: ImageUsage;
  /** Bytes a compressed `docker load` archive may unpack to (default: the archive module's). */
  maxUnpackedBytes?: number;
}

export type DeleteItem = { Untagged: string } | { Deleted: string };

export interface ImportOptions {
  repo?: string;
  tag?: string;
  message?: string;
  changes: string[];
  /** What the history says the layer came from ("-" for the request body). */
  source: string;
}

export interface LoadedImage {
  id: Digest;
  tags: string[];
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export class ImageService {
  private readonly lock = new Mutex();
  private readonly configs = new Map<Digest, ImageConfig>();
  private readonly leases = new Leases();

  /** Tells build-cache intermediates (hidden from lists, kept by image prune) from images. */
  private buildCache: { isIntermediate(id: Digest): boolean } = { isIntermediate: () => false };

  constructor(private readonly deps: ImageServiceDeps) {}

  useBuildCache(view: { isIntermediate(id: Digest): boolean }): void {
    this.buildCache = view;
  }

  /** An untagged image that a later build step builds on: Docker lists it only with -a. */
  isIntermediate(id: Digest): boolean {
    return this.deps.store.referencesOf(id).length === 0 && this.buildCache.isIntermediate(id);
  }

  exists(id: Digest): boolean {
    return this.deps.store.get(id) !== undefined;
  }

  /**
   * One build step's image: the parent's (or, for FROM scratch, an empty) config with `config`
   * and a history entry, plus the layer when the step changed files. Not tagged.
   */
  async buildStepImage(parentId: Digest | undefined, options: { config: ContainerConfig; createdBy: string; layer?: Readable; author?: string }): Promise<Digest> {
    return this.lock.run(async () => {
      const parent = parentId ? this.deps.store.get(parentId) : undefined;
      if (parentId && !parent) throw new NotFoundError(`No such image: ${parentId}`);
      const parentConfig: ImageConfig = parent ? this.config(parent.id) : { architecture: this.deps.platform.architecture, os: this.deps.platform.os, rootfs: { type: 'layers', diff_ids: [] }, history: [] } as unknown as ImageConfig;
      try {
        const created = this.nowIso();
        let diffIds = parent?.diffIds ?? [];
        let layers: Descriptor[] = parent?.layers ?? [];
        if (options.layer) {
          const blob = await this.deps.content.ingest(options.layer);
          const chains = chainIds(diffIds);
          const info = await this.deps.snapshotter.applyLayer(chains[chains.length - 1], this.deps.content.readStream(blob.digest));
          diffIds = [...diffIds, info.diffId];
          layers = [...layers, { mediaType: MediaTypes.ociLayer, digest: blob.digest, size: blob.size }];
        }
        const config: ImageConfig = {
          ...parentConfig,
          created,
          ...(options.author ? { author: options.author } : {}),
          config: options.config,
          rootfs: { type: 'layers', diff_ids: diffIds },
          history: [...(parentConfig.history ?? []), { created, created_by: options.createdBy, ...(options.layer ? {} : { empty_layer: true }) }],
        };
        const record = await this.register(Buffer.from(JSON.stringify(config)), layers, undefined);
        return record.id;
      } catch (err) {
        await this.collectGarbage();
        throw err;
      }
    });
  }

  /**
   * The classic builder's --cache-from: when `source` was built from `parent` by the same steps so
   * far and its next step is `createdBy`, a step image of `parent` plus that step's layer (from
   * `source`, already unpacked) with the builder's `config`. Undefined when the histories differ.
   */
  async restoreCachedStep(parentId: Digest | undefined, sourceId: Digest, options: { config: ContainerConfig; createdBy: string }): Promise<Digest | undefined> {
    const source = this.deps.store.get(sourceId);
    const parent = parentId ? this.deps.store.get(parentId) : undefined;
    if (!source || (parentId && !parent)) return undefined;
    const sourceHistory = this.config(source.id).history ?? [];
    const parentHistory = parent ? (this.config(parent.id).history ?? []) : [];
    if (sourceHistory.length <= parentHistory.length) return undefined;
    for (let i = 0; i < parentHistory.length; i++) {
      if (sourceHistory[i]!.created_by !== parentHistory[i]!.created_by || Boolean(sourceHistory[i]!.empty_layer) !== Boolean(parentHistory[i]!.empty_layer)) return undefined;
    }
    const parentDiffIds = parent?.diffIds ?? [];
    if (parentDiffIds.some((d, i) => source.diffIds[i] !== d)) return undefined;
    const next = sourceHistory[parentHistory.length]!;
    if (next.created_by !== options.createdBy) return undefined;
    return this.lock.run(async () => {
      const parentConfig: ImageConfig = parent ? this.config(parent.id) : { architecture: this.deps.platform.architecture, os: this.deps.platform.os, rootfs: { type: 'layers', diff_ids: [] }, history: [] } as unknown as ImageConfig;
      const withLayer = !next.empty_layer;
      const diffIds = withLayer ? [...parentDiffIds, source.diffIds[parentDiffIds.length]!] : parentDiffIds;
      const layers = withLayer ? [...(parent?.layers ?? []), source.layers[parentDiffIds.length]!] : (parent?.layers ?? []);
      if (withLayer && diffIds.length !== parentDiffIds.length + 1) return undefined;
      const config: ImageConfig = {
        ...parentConfig,
        created: next.created ?? this.nowIso(),
        config: options.config,
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: [...parentHistory, next],
      };
      return (await this.register(Buffer.from(JSON.stringify(config)), layers, undefined)).id;
    });
  }

  /** Deletes build-cache images no container uses and no tag names; the bytes freed. */
  async removeUnusedImages(ids: readonly Digest[]): Promise<{ deleted: Digest[]; reclaimed: number }> {
    return this.lock.run(async () => {
      const deleted: Digest[] = [];
      for (const id of ids) {
        if (!this.deps.store.get(id) || this.deps.store.referencesOf(id).length > 0 || this.deps.usage.containersUsing(id).length > 0) continue;
        await this.deps.store.remove(id);
        this.configs.delete(id);
        deleted.push(id);
      }
      const freed = await this.collectGarbage();
      return { deleted, reclaimed: freed.bytes };
    });
  }

  /** Size of an image's own top layer (0 when its last step added no layer). */
  topLayerSize(id: Digest): number {
    const record = this.deps.store.get(id);
    const config = this.configs.get(id);
    if (!record || !config || record.diffIds.length === 0) return 0;
    const last = config.history?.[config.history.length - 1];
    if (last?.empty_layer) return 0;
    return this.deps.snapshotter.layer(chainIds(record.diffIds)[record.diffIds.length - 1]!)?.size ?? 0;
  }

  /** The parsed config of an image (for the builder). */
  imageConfig(id: Digest): ImageConfig {
    return this.config(id);
  }

  /** Loads every image config into memory so listing needs no disk reads. */
  async start(): Promise<void> {
    await this.lock.run(async () => {
      for (const record of this.deps.store.all()) {
        const config = await this.deps.content.readBytes(record.id).then(parseImageConfig, (err: unknown) => {
          if (err instanceof BerthError && (err.kind === 'NotFound' || err.code === 'BERTH_DIGEST_MISMATCH')) return undefined;
          throw err;
        });
        if (config) this.configs.set(record.id, config);
        else this.repairs.push(`image ${record.id}: its config blob is missing or damaged; removed (pull or load it again)`);
      }
      for (const record of this.deps.store.all()) {
        if (!this.configs.has(record.id)) await this.deps.store.remove(record.id);
        else await this.repairLayers(record);
      }
      await this.collectGarbage();
    });
  }

  /** What start() found damaged and repaired or removed, for the daemon's log. */
  readonly repairs: string[] = [];

  /**
   * An image whose layer chain lost a layer (a crash before the layer was recorded, a damaged
   * record) gets it unpacked again from its blobs; without the blobs a pull of the image repairs it.
   */
  private async repairLayers(record: ImageRecord): Promise<void> {
    const chains = chainIds(record.diffIds);
    if (chains.every((chain) => this.deps.snapshotter.layer(chain))) return;
    for (const layer of record.layers) {
      if (!(await this.deps.content.has(layer.digest))) {
        this.repairs.push(`image ${record.id}: layer ${layer.digest} is missing and its blob too; pull the image again`);
        return;
      }
    }
    await this.deps.snapshotter.applyLayers(
      undefined,
      record.layers.map((layer, i) => ({ open: () => this.deps.content.readStream(layer.digest), diffId: record.diffIds[i] })),
    );
    this.repairs.push(`image ${record.id}: unpacked its missing layers again`);
  }

  count(): number {
    return this.deps.store.all().length;
  }

  private config(id: Digest): ImageConfig {
    const config = this.configs.get(id);
    if (!config) throw new NotFoundError(`No such image: ${id}`);
    return config;
  }

  private nowIso(): string {
    return new Date(this.deps.clock.nowMs()).toISOString();
  }

  /** Parses `repo` (which may carry a tag, as the docker CLI sends it) and `tag`. */
  private targetReference(repo: string | undefined, tag: string | undefined): ImageReference | undefined {
    if (!repo) return undefined;
    const ref = parseNormalizedReference(repo);
    if (ref.digest) throw new InvalidArgumentError('cannot import or tag to a digest reference');
    if (tag) {
      assertValidTag(tag);
      return { ...ref, tag };
    }
    return withDefaultTag(ref);
  }

  /** Runs `section` while no other image change (or garbage collection) can run. */
  exclusive<T>(section: () => Promise<T>): Promise<T> {
    return this.lock.run(section);
  }

  /**
   * For pulls (call inside `exclusive`): registers an image whose blobs are in the content store and
   * whose layers are unpacked, tags it, and records the digest it was pulled by.
   */
  async registerPulled(configBytes: Buffer, layers: Descriptor[], manifest: Descriptor, tag: ImageReference | undefined, repoDigest: string): Promise<{ id: Digest; existed: boolean }> {
    const existed = this.deps.store.get(`sha256:${createHash('sha256').update(configBytes).digest('hex')}`) !== undefined;
    const record = await this.register(configBytes, layers, manifest);
    if (tag) await this.setTag(tag, record.id);
    await this.addRepoDigest(record.id, repoDigest);
    return { id: record.id, existed };
  }

  async addRepoDigest(id: Digest, repoDigest: string): Promise<void> {
    const record = this.deps.store.get(id);
    if (!record) return;
    // One digest per repository, as Docker keeps them: the newest replaces the older.
    const repo = repoDigest.slice(0, repoDigest.indexOf('@'));
    const repoDigests = [...record.repoDigests.filter((d) => !d.startsWith(`${repo}@`)), repoDigest].sort();
    await this.deps.store.put({ ...record, repoDigests });
  }

  /** The record of the image a push sends. */
  imageForPush(term: string): ImageRecord {
    return this.deps.store.resolve(term).record;
  }

  /** Full references of `repository` ("localhost:5000/app") that name images, for push -a. */
  tagsOf(repository: string): ImageReference[] {
    return this.deps.store
      .all()
      .flatMap((r) => this.deps.store.referencesOf(r.id))
      .filter((ref) => ref.startsWith(`${repository}:`))
      .map((ref) => parseNormalizedReference(ref));
  }

  /** Drops blobs and layers a failed pull left unreferenced (call inside `exclusive`). */
  async collectUnused(): Promise<void> {
    await this.collectGarbage();
  }

  /** Throws the 400 a bad repo/tag gets, before the caller reads the upload. */
  checkImportTarget(repo: string | undefined, tag: string | undefined): void {
    this.targetReference(repo, tag);
  }

  /** `docker import`: one layer from a tar (plain, gzip or zstd), a config from `changes`. */
  async importImage(source: Readable, options: ImportOptions): Promise<Digest> {
    const target = this.targetReference(options.repo, options.tag);
    const changedConfig = applyChanges({}, options.changes);
    return this.lock.run(async () => {
      try {
        const blob = await this.deps.content.ingest(source);
        const compression = await this.blobCompression(blob.digest);
        const layer = await this.deps.snapshotter.applyLayer(undefined, this.deps.content.readStream(blob.digest));
        const created = this.nowIso();
        const comment = options.message || `Imported from ${options.source}`;
        const config: ImageConfig = {
          architecture: this.deps.platform.architecture,
          os: this.deps.platform.os,
          ...(this.deps.platform.variant ? { variant: this.deps.platform.variant } : {}),
          created,
          config: changedConfig,
          rootfs: { type: 'layers', diff_ids: [layer.diffId] },
          history: [{ created, created_by: '', comment }],
          ...(options.message ? { comment: options.message } : {}),
        };
        const layerDescriptor: Descriptor = { mediaType: ociLayerMediaType(compression), digest: blob.digest, size: blob.size };
        const record = await this.register(Buffer.from(JSON.stringify(config)), [layerDescriptor], undefined);
        if (target) await this.setTag(target, record.id);
        this.deps.publish({ Type: 'image', Action: 'import', Actor: { ID: record.id, Attributes: target ? { name: familiarReference(target) } : {} } });
        return record.id;
      } catch (err) {
        await this.collectGarbage();
        throw err;
      }
    });
  }

  /**
   * `docker commit`: the parent image's layers plus `layer` (a container's diff, uncompressed), and a
   * config that is the container's (Cmd, Env, ...) with `changes` applied over it.
   */
  async commitImage(parentId: Digest, layer: Readable, options: { repo?: string; tag?: string; author?: string; comment?: string; changes: string[]; config: ContainerConfig; createdBy: string; containerId: string }): Promise<Digest> {
    const target = this.targetReference(options.repo, options.tag);
    return this.lock.run(async () => {
      const parent = this.deps.store.get(parentId);
      if (!parent) throw new NotFoundError(`No such image: ${parentId}`);
      const parentConfig = this.config(parent.id);
      try {
        const blob = await this.deps.content.ingest(layer);
        const chains = chainIds(parent.diffIds);
        const info = await this.deps.snapshotter.applyLayer(chains[chains.length - 1], this.deps.content.readStream(blob.digest));
        const created = this.nowIso();
        const config: ImageConfig = {
          ...parentConfig,
          created,
          ...(options.author ? { author: options.author } : {}),
          config: applyChanges(options.config, options.changes),
          rootfs: { type: 'layers', diff_ids: [...parent.diffIds, info.diffId] },
          history: [...(parentConfig.history ?? []), { created, created_by: options.createdBy, ...(options.author ? { author: options.author } : {}), ...(options.comment ? { comment: options.comment } : {}) }],
          ...(options.comment ? { comment: options.comment } : {}),
        };
        const layers: Descriptor[] = [...parent.layers, { mediaType: MediaTypes.ociLayer, digest: blob.digest, size: blob.size }];
        const record = await this.register(Buffer.from(JSON.stringify(config)), layers, undefined);
        if (target) await this.setTag(target, record.id);
        this.deps.publish({ Type: 'container', Action: 'commit', Actor: { ID: options.containerId, Attributes: { comment: options.comment ?? '', imageID: record.id, ...(target ? { imageRef: familiarReference(target) } : {}) } } });
        return record.id;
      } catch (err) {
        await this.collectGarbage();
        throw err;
      }
    });
  }

  private async blobCompression(digest: Digest): Promise<'gzip' | 'zstd' | 'none'> {
    const handle = await open(this.deps.content.path(digest), 'r');
    try {
      const head = Buffer.alloc(6);
      await handle.read(head, 0, 6, 0);
      if (head.subarray(0, 3).toString('latin1') === 'BZh') throw new InvalidArgumentError('bzip2-compressed archives are not supported: decompress it first, or use gzip or zstd');
      if (head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) throw new InvalidArgumentError('xz-compressed archives are not supported: decompress it first, or use gzip or zstd');
      return detectCompression(head);
    } finally {
      await handle.close();
    }
  }

  /**
   * Stores config and manifest blobs, unpacks the layers (verifying each against the config's
   * DiffIDs) and writes the image record.
   */
  private async register(configBytes: Buffer, layers: Descriptor[], manifest: Descriptor | undefined): Promise<ImageRecord> {
    const config = parseImageConfig(configBytes);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== layers.length) {
      throw new InvalidArgumentError(`invalid image: the config lists ${diffIds.length} layers but ${layers.length} were given`);
    }
    const configBlob = await this.deps.content.putBytes(configBytes);
    const infos = await this.deps.snapshotter.applyLayers(
      undefined,
      layers.map((layer, i) => ({ open: () => this.deps.content.readStream(layer.digest), diffId: diffIds[i] })),
    );
    const size = infos.reduce((sum, info) => sum + info.size, 0);
    let manifestDescriptor = manifest;
    if (!manifestDescriptor) {
      const document: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.ociConfig, digest: configBlob.digest, size: configBlob.size },
        layers,
      };
      const bytes = Buffer.from(JSON.stringify(document));
      const blob = await this.deps.content.putBytes(bytes);
      manifestDescriptor = { mediaType: MediaTypes.ociManifest, digest: blob.digest, size: blob.size };
    }
    const existing = this.deps.store.get(configBlob.digest);
    const record: ImageRecord = {
      id: configBlob.digest,
      manifest: { mediaType: manifestDescriptor.mediaType, digest: manifestDescriptor.digest, size: manifestDescriptor.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      diffIds,
      size,
      addedAt: existing?.addedAt ?? this.nowIso(),
      lastTagTime: existing?.lastTagTime,
      repoDigests: existing?.repoDigests ?? [],
    };
    await this.deps.store.put(record);
    this.configs.set(record.id, config);
    return record;
  }

  private async setTag(ref: ImageReference, id: Digest): Promise<void> {
    await this.deps.store.tag(ref, id);
    const record = this.deps.store.get(id);
    if (record) await this.deps.store.put({ ...record, lastTagTime: this.nowIso() });
  }

  /** `docker load`: every image in a docker-archive or OCI layout tar. */
  async load(source: Readable): Promise<LoadedImage[]> {
    return this.lock.run(async () => {
      try {
        const found = await readImageArchive(source, this.deps.content, this.deps.platform, this.deps.maxUnpackedBytes === undefined ? {} : { maxUnpackedBytes: this.deps.maxUnpackedBytes });
        const loaded: LoadedImage[] = [];
        for (const image of found) loaded.push(await this.registerArchiveImage(image));
        return loaded;
      } catch (err) {
        await this.collectGarbage();
        throw err;
      }
    });
  }

  private async registerArchiveImage(image: ArchiveImage): Promise<LoadedImage> {
    const configBytes = await this.deps.content.readBytes(image.config);
    let layers: Descriptor[];
    if (image.manifest) {
      layers = parseManifest(await this.deps.content.readBytes(image.manifest.digest)).layers;
    } else {
      layers = [];
      for (const digest of image.layers) {
        const { size } = await this.deps.content.info(digest);
        layers.push({ mediaType: ociLayerMediaType(await this.blobCompression(digest)), digest, size });
      }
    }
    const references = image.names.map((name) => withDefaultTag(parseNormalizedReference(name)));
    const record = await this.register(configBytes, layers, image.manifest);
    for (const ref of references) await this.setTag(ref, record.id);
    const tags = references.map(familiarReference);
    this.deps.publish({ Type: 'image', Action: 'load', Actor: { ID: record.id, Attributes: tags[0] ? { name: tags[0] } : {} } });
    return { id: record.id, tags };
  }

  /** `docker save`: resolves every name first (404 before any byte), then streams the archive. */
  save(terms: readonly string[]): AsyncGenerator<Buffer> {
    const items: SaveItem[] = [];
    for (const term of terms) {
      const { record, reference } = this.deps.store.resolve(term);
      const item = items.find((i) => i.record.id === record.id) ?? (items.push({ record, references: [] }), items[items.length - 1]!);
      if (reference && !item.references.some((r) => r.tag === reference.tag && repositoryName(r) === repositoryName(reference))) item.references.push(reference);
    }
    return writeImageArchive(items, this.deps.content);
  }

  async tag(source: string, repo: string, tag: string | undefined): Promise<void> {
    const { record } = this.deps.store.resolve(source);
    const target = this.targetReference(repo, tag);
    if (!target) throw new InvalidArgumentError('repository name must have at least one component');
    await this.lock.run(async () => {
      await this.setTag(target, record.id);
      this.deps.publish({ Type: 'image', Action: 'tag', Actor: { ID: record.id, Attributes: { name: familiarReference(target) } } });
    });
  }

  inspect(term: string): ImageInspect {
    const { record } = this.deps.store.resolve(term);
    const lowerChain = chainIds(record.diffIds);
    return toImageInspect(record, this.config(record.id), this.deps.store.repoTags(record.id), {
      TopLayer: lowerChain[lowerChain.length - 1] ?? '',
    });
  }

  history(term: string): HistoryItem[] {
    const { record } = this.deps.store.resolve(term);
    const sizes = chainIds(record.diffIds).map((chain) => this.deps.snapshotter.layer(chain)?.size ?? 0);
    return toHistory(record, this.config(record.id), this.deps.store.repoTags(record.id), sizes, this.ancestors(record));
  }

  /**
   * For each history entry of `record` (oldest first), the local image that is exactly the image
   * up to that entry (same history and layers) as Docker finds it through the parent chain
   * (a build's steps, the base it was built FROM); undefined where there is none.
   */
  private ancestors(record: ImageRecord): ({ id: Digest; tags: string[] } | undefined)[] {
    const signature = (history: readonly unknown[], diffIds: readonly string[]) => JSON.stringify([history, diffIds]);
    const bySignature = new Map<string, Digest>();
    for (const image of this.deps.store.all()) {
      const config = this.configs.get(image.id);
      if (config?.history?.length) bySignature.set(signature(config.history, image.diffIds), image.id);
    }
    const history = this.config(record.id).history ?? [];
    let layers = 0;
    return history.map((entry, index) => {
      if (!entry.empty_layer) layers++;
      const id = bySignature.get(signature(history.slice(0, index + 1), record.diffIds.slice(0, layers)));
      return id ? { id, tags: this.deps.store.repoTags(id) } : undefined;
    });
  }

  list(options: { filters: FilterMap; sharedSize: boolean; all?: boolean }): ImageSummary[] {
    for (const key of options.filters.keys()) if (!(LIST_FILTER_KEYS as readonly string[]).includes(key)) throw new InvalidArgumentError(`invalid filter '${key}'`);
    const dangling = danglingFilter(options.filters);
    const created = (term: string) => createdSeconds(this.config(this.deps.store.resolve(term).record.id));
    const before = options.filters.get('before')?.map(created);
    const since = options.filters.get('since')?.map(created);
    const until = options.filters.get('until')?.map((u) => parseUntil(u, this.deps.clock.nowMs()) / 1000);
    const patterns = options.filters.get('reference') ?? [];
    const chainUse = new Map<Digest, number>();
    if (options.sharedSize) {
      for (const record of this.deps.store.all()) for (const chain of chainIds(record.diffIds)) chainUse.set(chain, (chainUse.get(chain) ?? 0) + 1);
    }
    const summaries: ImageSummary[] = [];
    for (const record of this.deps.store.all()) {
      if (!options.all && this.isIntermediate(record.id)) continue;
      const config = this.config(record.id);
      let tags = this.deps.store.repoTags(record.id);
      const createdAt = createdSeconds(config);
      if (dangling !== undefined && (tags.length === 0) !== dangling) continue;
      if (!matchesLabels(config, options.filters)) continue;
      if (before && !before.every((b) => createdAt < b)) continue;
      if (since && !since.every((s) => createdAt > s)) continue;
      if (until && !until.every((u) => createdAt < u)) continue;
      if (patterns.length) {
        tags = matchingTags(tags, patterns);
        if (tags.length === 0) continue;
      }
      const sharedSize = options.sharedSize
        ? chainIds(record.diffIds).reduce((sum, chain) => sum + ((chainUse.get(chain) ?? 0) > 1 ? (this.deps.snapshotter.layer(chain)?.size ?? 0) : 0), 0)
        : -1;
      const containers = this.deps.usage.containersUsing(record.id).length;
      summaries.push(toImageSummary(record, config, tags, { sharedSize, containers }));
    }
    return summaries.sort((a, b) => b.Created - a.Created || (a.Id < b.Id ? -1 : 1));
  }

  /** `docker rmi`: untag by name, delete by ID, with Docker's conflicts. */
  async remove(term: string, options: { force: boolean }): Promise<DeleteItem[]> {
    return this.lock.run(async () => {
      const { record, reference } = this.deps.store.resolve(term);
      // Docker's rule: a term that is a prefix of the ID deletes by ID, anything else untags by name.
      const byName = reference !== undefined && !(record.id.startsWith(term) || record.id.slice('sha256:'.length).startsWith(term));
      const refs = this.deps.store.referencesOf(record.id);
      const users = this.deps.usage.containersUsing(record.id);
      const running = users.find((u) => u.running);
      const items: DeleteItem[] = [];
      const untag = async (ref: ImageReference) => {
        await this.deps.store.untag(ref);
        items.push({ Untagged: familiarReference(ref) });
        this.deps.publish({ Type: 'image', Action: 'untag', Actor: { ID: record.id, Attributes: { name: familiarReference(ref) } } });
      };
      if (byName && reference) {
        if (refs.length === 1 && users.length > 0 && !options.force) {
          throw new ConflictError(`conflict: unable to remove repository reference "${term}" (must force) - container ${short(users[0]!.id)} is using its referenced image ${short(record.id)}`);
        }
        await untag(reference);
        if (refs.length > 1 || users.length > 0) return items;
      } else {
        if (refs.length > 1 && !options.force) {
          throw new ConflictError(`conflict: unable to delete ${short(record.id)} (must be forced) - image is referenced in multiple repositories`);
        }
        if (running) throw new ConflictError(`conflict: unable to delete ${short(record.id)} (cannot be forced) - image is being used by running container ${short(running.id)}`);
        if (users.length > 0 && !options.force) {
          throw new ConflictError(`conflict: unable to delete ${short(record.id)} (must be forced) - image is being used by stopped container ${short(users[0]!.id)}`);
        }
        for (const ref of refs) await untag(parseNormalizedReference(ref));
        if (users.length > 0) return items;
      }
      items.push(...(await this.deleteImage(record.id)));
      return items;
    });
  }

  private async deleteImage(id: Digest): Promise<DeleteItem[]> {
    await this.deps.store.remove(id);
    this.configs.delete(id);
    this.deps.publish({ Type: 'image', Action: 'delete', Actor: { ID: id, Attributes: {} } });
    const freed = await this.collectGarbage();
    return [{ Deleted: id }, ...freed.layers.map((chain) => ({ Deleted: chain }))];
  }

  /** `docker image prune`: dangling images, or with dangling=false every image no container uses. */
  async prune(filters: FilterMap): Promise<{ ImagesDeleted: DeleteItem[]; SpaceReclaimed: number }> {
    for (const key of filters.keys()) if (!(PRUNE_FILTER_KEYS as readonly string[]).includes(key)) throw new InvalidArgumentError(`invalid filter '${key}'`);
    const danglingOnly = danglingFilter(filters) ?? true;
    const until = filters.get('until')?.map((u) => parseUntil(u, this.deps.clock.nowMs()) / 1000);
    return this.lock.run(async () => {
      const deleted: DeleteItem[] = [];
      let reclaimed = 0;
      for (const record of this.deps.store.all()) {
        const config = this.config(record.id);
        const refs = this.deps.store.referencesOf(record.id);
        if (danglingOnly && refs.length > 0) continue;
        if (refs.length === 0 && this.buildCache.isIntermediate(record.id)) continue; // build cache: builder prune's
        if (this.deps.usage.containersUsing(record.id).length > 0) continue;
        if (!matchesLabels(config, filters)) continue;
        if (until && !until.every((u) => createdSeconds(config) < u)) continue;
        for (const ref of refs) {
          await this.deps.store.untag(parseNormalizedReference(ref));
          deleted.push({ Untagged: familiarReference(parseNormalizedReference(ref)) });
        }
        await this.deps.store.remove(record.id);
        this.configs.delete(record.id);
        this.deps.publish({ Type: 'image', Action: 'delete', Actor: { ID: record.id, Attributes: {} } });
        deleted.push({ Deleted: record.id });
      }
      const freed = await this.collectGarbage();
      reclaimed += freed.bytes;
      deleted.push(...freed.layers.map((chain) => ({ Deleted: chain })));
      return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
    });
  }

  /** The images part of `GET /system/df`. */
  diskUsage(): { LayersSize: number; Images: ImageSummary[] } {
    const layersSize = this.deps.snapshotter.layers().reduce((sum, layer) => sum + layer.size, 0);
    return { LayersSize: layersSize, Images: this.list({ filters: new Map(), sharedSize: true }).map((i) => ({ ...i, Containers: Math.max(0, i.Containers) })) };
  }

  /**
   * Removes blobs and layers that no image, no snapshot and no lease uses. Call under the lock.
   * Leases are checked again right before each removal: a create may take one while this runs.
   */
  private async collectGarbage(): Promise<{ layers: Digest[]; bytes: number }> {
    const blobs = new Set<Digest>();
    const chains = new Set<Digest>(this.deps.usage.chainsInUse());
    for (const record of this.deps.store.all()) {
      blobs.add(record.id);
      blobs.add(record.manifest.digest);
      for (const layer of record.layers) blobs.add(layer.digest);
      for (const chain of chainIds(record.diffIds)) chains.add(chain);
    }
    const kept = this.withParents([...chains, ...this.leases.heldChains()]);
    const depth = (chain: Digest): number => {
      let n = 0;
      for (let p = this.deps.snapshotter.layer(chain)?.parent; p; p = this.deps.snapshotter.layer(p)?.parent) n++;
      return n;
    };
    const doomed = this.deps.snapshotter.layers().filter((l) => !kept.has(l.chainId)).sort((a, b) => depth(b.chainId) - depth(a.chainId));
    const removed: Digest[] = [];
    let bytes = 0;
    for (const layer of doomed) {
      // Synchronous checks right before removeLayer, which drops the record before it awaits.
      if (this.withParents(this.leases.heldChains()).has(layer.chainId)) continue;
      if (this.deps.snapshotter.layers().some((l) => l.parent === layer.chainId)) continue;
      await this.deps.snapshotter.removeLayer(layer.chainId);
      removed.push(layer.chainId);
      bytes += layer.size;
    }
    for (const blob of await this.deps.content.list()) {
      if (!blobs.has(blob.digest) && !this.leases.holdsBlob(blob.digest)) await this.deps.content.delete(blob.digest);
    }
    return { layers: removed, bytes };
  }

  /** `chains` and every layer they stand on. */
  private withParents(chains: readonly Digest[]): Set<Digest> {
    const all = new Set<Digest>();
    for (const chain of chains) {
      for (let current: Digest | undefined = chain; current && !all.has(current); current = this.deps.snapshotter.layer(current)?.parent) all.add(current);
    }
    return all;
  }

  /** A lease for work in progress (a pull): what it holds outlives any GC until it is released. */
  lease(items: { chains?: readonly Digest[]; blobs?: readonly Digest[] } = {}): Lease {
    return this.leases.take(items);
  }
}

