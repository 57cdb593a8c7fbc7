/**
 * berth-registry's storage: blobs once for all repositories (the shared content store), each
 * repository holding links to them; manifests stored byte for byte as blobs with a revision link;
 * tags as files naming a digest; referrers indexed by subject; resumable upload sessions on disk.
 * Every file that matters is written atomically.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID, type Hash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { LocalContentStore, type BlobInfo } from '../content/index.js';
import { digestHex, sha256Hasher, type Digest } from '../content/digest.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { errnoCode } from '../lib/errors.js';
import { Mutex } from '../lib/keyed-mutex.js';
import { INDEX_TYPES, MediaTypes, type Descriptor } from '../oci/index.js';
import { RegistryError } from './registry-errors.js';
import type { ManifestReference } from './names.js';

export interface ManifestRevision {
  mediaType: string;
  size: number;
  subject?: Digest;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface StoredManifest extends ManifestRevision {
  digest: Digest;
}

interface UploadProgress {
  hash?: Hash;
  size: number;
}

const MANIFEST_TYPES_ACCEPTED = new Set<string>([MediaTypes.ociManifest, MediaTypes.dockerManifest, MediaTypes.ociIndex, MediaTypes.dockerManifestList]);

export class RegistryStorage {
  private readonly progress = new Map<string, UploadProgress>();
  private readonly uploadLocks = new Map<string, Mutex>();

  private constructor(
    readonly root: string,
    readonly content: LocalContentStore,
  ) {}

  static async open(root: string): Promise<RegistryStorage> {
    await mkdir(join(root, 'uploads'), { recursive: true, mode: 0o700 });
    await mkdir(join(root, 'repositories'), { recursive: true, mode: 0o755 });
    return new RegistryStorage(root, await LocalContentStore.open(root));
  }

  private repoDir(name: string): string {
    return join(this.root, 'repositories', name);
  }

  async repositoryExists(name: string): Promise<boolean> {
    return stat(join(this.repoDir(name), '_manifests')).then(() => true, () => stat(join(this.repoDir(name), '_layers')).then(() => true, () => false));
  }

  // ---- blobs ----

  private layerLink(name: string, digest: Digest): string {
    return join(this.repoDir(name), '_layers', digestHex(digest));
  }

  async isLinked(name: string, digest: Digest): Promise<boolean> {
    return stat(this.layerLink(name, digest)).then(() => true, () => false);
  }

  async linkBlob(name: string, digest: Digest): Promise<void> {
    await mkdir(join(this.repoDir(name), '_layers'), { recursive: true });
    await writeFile(this.layerLink(name, digest), '');
  }

  /** A blob this repository may serve: linked here and present in the store. */
  async blob(name: string, digest: Digest): Promise<BlobInfo> {
    if (!(await this.isLinked(name, digest))) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
    try {
      return await this.content.info(digest);
    } catch {
      throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
    }
  }

  blobStream(digest: Digest, range?: { start: number; end: number }): Readable {
    return createReadStream(this.content.path(digest), { highWaterMark: 1024 * 1024, ...(range ?? {}) });
  }

  async unlinkBlob(name: string, digest: Digest): Promise<void> {
    try {
      await unlink(this.layerLink(name, digest));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
      throw err;
    }
  }

  /** Cross-repository mount from `from` (the caller may pull it): true when the blob could be linked without an upload. */
  async mount(name: string, digest: Digest, from: string): Promise<boolean> {
    if (!(await this.content.has(digest)) || !(await this.isLinked(from, digest))) return false;
    await this.linkBlob(name, digest);
    return true;
  }

  // ---- uploads ----

  private uploadDir(uuid: string): string {
    if (!/^[0-9a-f-]{36}$/.test(uuid)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
    return join(this.root, 'uploads', uuid);
  }

  private lockFor(uuid: string): Mutex {
    let lock = this.uploadLocks.get(uuid);
    if (!lock) this.uploadLocks.set(uuid, (lock = new Mutex()));
    return lock;
  }

  async startUpload(name: string): Promise<string> {
    const uuid = randomUUID();
    const dir = this.uploadDir(uuid);
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, 'data'), '');
    await writeFileAtomic(join(dir, 'info.json'), JSON.stringify({ name, startedAt: new Date().toISOString() }));
    this.progress.set(uuid, { hash: sha256Hasher(), size: 0 });
    return uuid;
  }

  /** The session's size; its repository must match. */
  async uploadSize(name: string, uuid: string): Promise<number> {
    const dir = this.uploadDir(uuid);
    let info: { name: string };
    try {
      info = JSON.parse(await readFile(join(dir, 'info.json'), 'utf8')) as { name: string };
    } catch {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { uuid });
    }
    if (info.name !== name) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { uuid });
    const known = this.progress.get(uuid);
    return known ? known.size : (await stat(join(dir, 'data'))).size;
  }

  /**
   * Appends a chunk. `start`, when the client sent Content-Range, must be the current size, else
   * 416 with the Range the client should resume from.
   */
  async appendUpload(name: string, uuid: string, body: Readable, start?: number, length?: number): Promise<number> {
    return this.lockFor(uuid).run(async () => {
      const size = await this.uploadSize(name, uuid);
      if (start !== undefined && start !== size) {
        body.resume();
        throw new RegistryError('RANGE_INVALID', `chunk starts at ${start}, but the upload has ${size} bytes`, undefined, uploadHeaders(name, uuid, size));
      }
      let progress = this.progress.get(uuid);
      if (!progress) this.progress.set(uuid, (progress = { size }));
      const hash = progress.hash;
      let written = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash?.update(chunk);
          written += chunk.length;
          done(null, chunk);
        },
      });
      try {
        await pipeline(body, meter, createWriteStream(join(this.uploadDir(uuid), 'data'), { flags: 'a' }));
      } catch (err) {
        // The file may hold part of the chunk: forget the running hash; it is recomputed at the end.
        this.progress.set(uuid, { size: (await stat(join(this.uploadDir(uuid), 'data'))).size });
        throw err;
      }
      progress.size = size + written;
      if (length !== undefined && written !== length) {
        this.progress.set(uuid, { size: progress.size });
        throw new RegistryError('SIZE_INVALID', `chunk was ${written} bytes, Content-Length said ${length}`);
      }
      return progress.size;
    });
  }

  /** Closes a session: the content must hash to `digest`; then it becomes a blob of `name`. */
  async finishUpload(name: string, uuid: string, digest: Digest, finalChunk?: Readable): Promise<BlobInfo> {
    if (finalChunk) await this.appendUpload(name, uuid, finalChunk);
    return this.lockFor(uuid).run(async () => {
      await this.uploadSize(name, uuid);
      const dir = this.uploadDir(uuid);
      const data = join(dir, 'data');
      const progress = this.progress.get(uuid);
      let actual: Digest;
      if (progress?.hash) {
        actual = `sha256:${progress.hash.digest('hex')}`;
      } else {
        const hash = sha256Hasher();
        for await (const chunk of createReadStream(data, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
        actual = `sha256:${hash.digest('hex')}`;
      }
      this.progress.delete(uuid);
      if (actual !== digest) {
        await rm(dir, { recursive: true, force: true });
        throw new RegistryError('DIGEST_INVALID', undefined, { expected: digest, actual });
      }
      const info = (await this.content.has(digest)) ? await this.content.info(digest) : await this.content.commitFile(data, digest);
      await this.linkBlob(name, digest);
      await rm(dir, { recursive: true, force: true });
      this.uploadLocks.delete(uuid);
      return info;
    });
  }

  async cancelUpload(name: string, uuid: string): Promise<void> {
    await this.uploadSize(name, uuid);
    this.progress.delete(uuid);
    this.uploadLocks.delete(uuid);
    await rm(this.uploadDir(uuid), { recursive: true, force: true });
  }

  /** POST ?digest=: the whole blob in one request. */
  async putBlob(name: string, digest: Digest, body: Readable, length?: number): Promise<BlobInfo> {
    let info: BlobInfo;
    try {
      info = await this.content.ingest(body, { digest, size: length });
    } catch (err) {
      const message = (err as Error).message;
      if (/digest mismatch/.test(message)) throw new RegistryError('DIGEST_INVALID', undefined, { expected: digest });
      if (/size mismatch/.test(message)) throw new RegistryError('SIZE_INVALID', message);
      throw err;
    }
    await this.linkBlob(name, digest);
    return info;
  }

  // ---- manifests ----

  private revisionPath(name: string, digest: Digest): string {
    return join(this.repoDir(name), '_manifests', 'revisions', digestHex(digest));
  }

  private tagPath(name: string, tag: string): string {
    return join(this.repoDir(name), '_manifests', 'tags', tag);
  }

  async resolveManifest(name: string, reference: ManifestReference): Promise<StoredManifest> {
    let digest: Digest;
    if (reference.kind === 'tag') {
      try {
        digest = (await readFile(this.tagPath(name, reference.tag), 'utf8')).trim() as Digest;
      } catch {
        throw new RegistryError('MANIFEST_UNKNOWN', undefined, { tag: reference.tag });
      }
    } else {
      digest = reference.digest;
    }
    try {
      const revision = JSON.parse(await readFile(this.revisionPath(name, digest), 'utf8')) as ManifestRevision;
      return { ...revision, digest };
    } catch {
      throw new RegistryError('MANIFEST_UNKNOWN', undefined, { digest });
    }
  }

  async manifestBytes(digest: Digest): Promise<Buffer> {
    return this.content.readBytes(digest);
  }

  /** Validates and stores a manifest exactly as sent; returns its digest and subject. */
  async putManifest(name: string, reference: ManifestReference, bytes: Buffer, contentType: string | undefined): Promise<StoredManifest> {
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new RegistryError('MANIFEST_INVALID', `manifest is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new RegistryError('MANIFEST_INVALID', 'manifest must be a JSON object');
    if (document['schemaVersion'] !== 2) throw new RegistryError('MANIFEST_INVALID', 'only schemaVersion 2 manifests are accepted (schema 1 is not supported)');
    const declared = typeof document['mediaType'] === 'string' ? document['mediaType'] : undefined;
    const type = (contentType ?? '').split(';')[0]!.trim();
    const mediaType = declared ?? (MANIFEST_TYPES_ACCEPTED.has(type) ? type : Array.isArray(document['manifests']) ? MediaTypes.ociIndex : MediaTypes.ociManifest);
    if (declared && type && MANIFEST_TYPES_ACCEPTED.has(type) && declared !== type) {
      throw new RegistryError('MANIFEST_INVALID', `mediaType ${declared} does not match Content-Type ${type}`);
    }
    if (!MANIFEST_TYPES_ACCEPTED.has(mediaType)) throw new RegistryError('MANIFEST_INVALID', `unsupported manifest media type ${mediaType}`);

    const descriptor = (value: unknown, what: string): Descriptor => {
      const d = value as Descriptor | undefined;
      if (!d || typeof d !== 'object' || typeof d.digest !== 'string' || typeof d.size !== 'number' || typeof d.mediaType !== 'string') {
        throw new RegistryError('MANIFEST_INVALID', `${what} must be a descriptor with mediaType, digest and size`);
      }
      if (!/^sha256:[a-f0-9]{64}$/.test(d.digest)) throw new RegistryError('MANIFEST_INVALID', `${what} has an unsupported digest ${d.digest}`);
      return d;
    };
    let artifactType = typeof document['artifactType'] === 'string' ? document['artifactType'] : undefined;
    if (INDEX_TYPES.includes(mediaType)) {
      if (!Array.isArray(document['manifests'])) throw new RegistryError('MANIFEST_INVALID', 'an index needs a manifests list');
      for (const entry of document['manifests']) {
        const child = descriptor(entry, 'manifests[]');
        if (!(await stat(this.revisionPath(name, child.digest)).then(() => true, () => false))) {
          throw new RegistryError('MANIFEST_BLOB_UNKNOWN', undefined, { digest: child.digest });
        }
      }
    } else {
      const config = descriptor(document['config'], 'config');
      if (!Array.isArray(document['layers'])) throw new RegistryError('MANIFEST_INVALID', 'an image manifest needs a layers list');
      const layers = document['layers'].map((l) => descriptor(l, 'layers[]'));
      for (const blob of [config, ...layers]) {
        if (!(await this.isLinked(name, blob.digest)) || !(await this.content.has(blob.digest))) {
          throw new RegistryError('MANIFEST_BLOB_UNKNOWN', undefined, { digest: blob.digest });
        }
      }
      artifactType ??= config.mediaType;
    }
    const subject = document['subject'] === undefined ? undefined : descriptor(document['subject'], 'subject');

    const blob = await this.content.putBytes(bytes);
    if (reference.kind === 'digest' && reference.digest !== blob.digest) {
      throw new RegistryError('DIGEST_INVALID', undefined, { expected: reference.digest, actual: blob.digest });
    }
    const annotations = typeof document['annotations'] === 'object' && document['annotations'] !== null ? (document['annotations'] as Record<string, string>) : undefined;
    const revision: ManifestRevision = { mediaType, size: bytes.length, ...(subject ? { subject: subject.digest } : {}), ...(artifactType ? { artifactType } : {}), ...(annotations ? { annotations } : {}) };
    await mkdir(join(this.repoDir(name), '_manifests', 'revisions'), { recursive: true });
    await writeFileAtomic(this.revisionPath(name, blob.digest), JSON.stringify(revision));
    if (reference.kind === 'tag') {
      await mkdir(join(this.repoDir(name), '_manifests', 'tags'), { recursive: true });
      await writeFileAtomic(this.tagPath(name, reference.tag), blob.digest);
    }
    if (subject) {
      const dir = join(this.repoDir(name), '_referrers', digestHex(subject.digest));
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, digestHex(blob.digest)), JSON.stringify({ mediaType, digest: blob.digest, size: bytes.length, ...(artifactType ? { artifactType } : {}), ...(annotations ? { annotations } : {}) }));
    }
    return { ...revision, digest: blob.digest };
  }

  async deleteManifest(name: string, reference: ManifestReference): Promise<void> {
    const manifest = await this.resolveManifest(name, reference);
    if (reference.kind === 'tag') {
      await unlink(this.tagPath(name, reference.tag));
      return;
    }
    for (const tag of await this.tags(name)) {
      const target = (await readFile(this.tagPath(name, tag), 'utf8').catch(() => '')).trim();
      if (target === manifest.digest) await unlink(this.tagPath(name, tag)).catch(() => undefined);
    }
    if (manifest.subject) await unlink(join(this.repoDir(name), '_referrers', digestHex(manifest.subject), digestHex(manifest.digest))).catch(() => undefined);
    await unlink(this.revisionPath(name, manifest.digest));
  }

  async tags(name: string): Promise<string[]> {
    try {
      return (await readdir(join(this.repoDir(name), '_manifests', 'tags'))).filter((t) => !t.startsWith('.')).sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  async referrers(name: string, subject: Digest): Promise<Descriptor[]> {
    const dir = join(this.repoDir(name), '_referrers', digestHex(subject));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    const descriptors: Descriptor[] = [];
    for (const entry of names.filter((n) => /^[a-f0-9]{64}$/.test(n)).sort()) {
      descriptors.push(JSON.parse(await readFile(join(dir, entry), 'utf8')) as Descriptor);
    }
    return descriptors;
  }

  /** Every repository name, sorted. */
  async repositories(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (relative: string) => {
      const entries = await readdir(join(this.root, 'repositories', relative), { withFileTypes: true }).catch(() => []);
      if (entries.some((e) => e.name === '_manifests')) found.push(relative);
      for (const entry of entries) {
        if (entry.isDirectory() && !entry.name.startsWith('_')) await walk(relative ? `${relative}/${entry.name}` : entry.name);
      }
    };
    await walk('');
    return found.sort();
  }

  /** Revisions (manifest digests) of a repository. */
  async revisions(name: string): Promise<Digest[]> {
    const names = await readdir(join(this.repoDir(name), '_manifests', 'revisions')).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((hex) => `sha256:${hex}` as Digest);
  }
}

export function uploadHeaders(name: string, uuid: string, size: number): Record<string, string> {
  return {
    Location: `/v2/${name}/blobs/uploads/${uuid}`,
    Range: `0-${Math.max(0, size - 1)}`,
    'Docker-Upload-UUID': uuid,
  };
}
