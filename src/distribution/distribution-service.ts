/**
 * Pull, push and login. A pull resolves the manifest first (so "not found" and "unauthorized" are
 * plain errors), then downloads layers concurrently, each streamed through digest checking and
 * decompression straight into its layer directory. A push skips blobs the registry has, mounts
 * what another repository there has, uploads the rest, then puts the manifest.
 */
import { createGzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { openDecompressed } from '../archive/compression.js';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { LocalContentStore } from '../content/index.js';
import { digestOf, type Digest } from '../content/digest.js';
import { chainIds, type Snapshotter } from '../snapshots/index.js';
import type { Clock } from '../lib/clock.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { InvalidArgumentError, NotFoundError, UnauthorizedError } from '../lib/errors.js';
import { INDEX_TYPES, MediaTypes, parseImageConfig, parseIndex, parseManifest, type Descriptor, type ImageManifest, type Platform } from '../oci/index.js';
import type { NewEvent } from '../events/index.js';
import type { ImageRecord, ImageService } from '../images/index.js';
import type { Lease } from '../images/leases.js';
import { familiarReference, parseNormalizedReference, withDefaultTag, formatReference, type ImageReference } from '../images/reference.js';
import { matchesPlatform } from '../images/image-load.js';
import type { AuthConfig } from './auth-config.js';
import { endpointsFor, type RegistryHostsConfig } from './registry-hosts.js';
import { RegistryAuthError, RegistryClient } from './registry-client.js';
import { downloadBlob } from './blob-download.js';
import { ProgressThrottle, progressBar, shortId, type ProgressSink } from './progress.js';

const ACCEPT = [MediaTypes.ociIndex, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.dockerManifest, MediaTypes.dockerSchema1Signed, MediaTypes.dockerSchema1].join(', ');

export interface DistributionConfig extends RegistryHostsConfig {
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** What one compressed layer may unpack to (daemon's max-unpack-size); the library default when unset. */
  maxUnpackedBytes?: number;
}

export interface DistributionDeps {
  images: ImageService;
  content: LocalContentStore;
  snapshotter: Snapshotter;
  clock: Clock;
  publish: (event: NewEvent) => void;
  platform: Platform;
  stateDir: string;
  userAgent: string;
  config: DistributionConfig;
}

interface ResolvedPull {
  ref: ImageReference;
  client: RegistryClient;
  /** Digest of what the tag named (an index or a manifest): the RepoDigest. */
  topDigest: Digest;
  manifest: ImageManifest;
  manifestDescriptor: Descriptor;
  manifestBytes: Buffer;
}

/** "linux/arm64/v8" -> Platform */
export function parsePlatform(text: string | undefined, fallback: Platform): Platform {
  if (!text) return fallback;
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) throw new InvalidArgumentError(`invalid platform "${text}": use os/arch[/variant]`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export class DistributionService {
  /** Uncompressed layer digest -> the gzip blob made from it once, so a second push reuses it. */
  private compressed = new Map<Digest, Descriptor>();

  constructor(private readonly deps: DistributionDeps) {}

  async start(): Promise<void> {
    await mkdir(this.deps.stateDir, { recursive: true, mode: 0o700 });
    try {
      const saved = JSON.parse(await readFile(join(this.deps.stateDir, 'compressed.json'), 'utf8')) as Record<Digest, Descriptor>;
      this.compressed = new Map(Object.entries(saved) as [Digest, Descriptor][]);
    } catch {
      this.compressed = new Map();
    }
  }

  private client(ref: ImageReference, auth: AuthConfig | undefined): RegistryClient {
    const endpoint = endpointsFor(ref.domain, this.deps.config)[0]!;
    return new RegistryClient(endpoint, auth, this.deps.userAgent, () => this.deps.clock.nowMs());
  }

  private async fetchManifest(client: RegistryClient, ref: ImageReference, reference: string, scope: string): Promise<{ bytes: Buffer; mediaType: string; digest: Digest }> {
    const response = await client.request('GET', `/v2/${ref.path}/manifests/${reference}`, { scope, headers: { Accept: ACCEPT } });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new NotFoundError(`manifest for ${familiarReference({ ...ref, ...(reference.startsWith('sha256:') ? { digest: reference, tag: undefined } : { tag: reference }) })} not found: manifest unknown: manifest unknown`);
    }
    if (!response.ok) throw await RegistryClient.errorFrom(response, `pulling ${familiarReference(ref)}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = digestOf(bytes);
    const header = response.headers.get('docker-content-digest');
    if (reference.startsWith('sha256:') && reference !== digest) throw new InvalidArgumentError(`manifest verification failed for digest ${reference}`);
    if (header && header !== digest) throw new InvalidArgumentError(`manifest verification failed: the registry says ${header}, the content hashes to ${digest}`);
    let mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    try {
      const declared = (JSON.parse(bytes.toString()) as { mediaType?: string; schemaVersion?: number; manifests?: unknown }).mediaType;
      if (declared) mediaType = declared;
      else if (!mediaType || mediaType === 'application/json') mediaType = (JSON.parse(bytes.toString()) as { manifests?: unknown }).manifests ? MediaTypes.ociIndex : MediaTypes.ociManifest;
    } catch {
      throw new InvalidArgumentError(`invalid manifest for ${familiarReference(ref)}: not JSON`);
    }
    if (mediaType === MediaTypes.dockerSchema1 || mediaType === MediaTypes.dockerSchema1Signed || (JSON.parse(bytes.toString()) as { schemaVersion?: number }).schemaVersion === 1) {
      throw new InvalidArgumentError(
        `support for Docker Image Format v1 and Docker Image manifest version 2, schema 1 has been removed. Suggest the author of ${familiarReference(ref)} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/`,
      );
    }
    return { bytes, mediaType, digest };
  }

  /** Step 1 of a pull: find the manifest for this platform. Errors here are plain HTTP errors. */
  async resolvePull(refText: string, options: { tag?: string; platform?: string; auth?: AuthConfig }): Promise<ResolvedPull> {
    let ref = parseNormalizedReference(refText);
    if (options.tag) {
      if (options.tag.startsWith('sha256:')) ref = { ...ref, digest: options.tag, tag: undefined };
      else ref = { ...ref, tag: options.tag };
    }
    ref = withDefaultTag(ref);
    const platform = parsePlatform(options.platform, this.deps.platform);
    const client = this.client(ref, options.auth);
    const scope = `repository:${ref.path}:pull`;
    const top = await this.fetchManifest(client, ref, ref.digest ?? ref.tag!, scope);
    let chosen = top;
    let descriptor: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
    if (INDEX_TYPES.includes(top.mediaType)) {
      const index = parseIndex(top.bytes);
      const entry = index.manifests.find((m) => !INDEX_TYPES.includes(m.mediaType) && m.platform && matchesPlatform(m.platform, platform) && m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest');
      if (!entry) {
        throw new NotFoundError(`no matching manifest for ${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''} in the manifest list entries`);
      }
      chosen = await this.fetchManifest(client, ref, entry.digest, scope);
      descriptor = { mediaType: chosen.mediaType, digest: chosen.digest, size: chosen.bytes.length };
    }
    const manifest = parseManifest(chosen.bytes);
    return { ref, client, topDigest: top.digest, manifest, manifestDescriptor: descriptor, manifestBytes: chosen.bytes };
  }

  /** Step 2: download, unpack and register, reporting progress as Docker does. */
  async pull(resolved: ResolvedPull, progress: ProgressSink): Promise<void> {
    const { ref, client, manifest } = resolved;
    const scope = `repository:${ref.path}:pull`;
    const { content, snapshotter, images } = this.deps;
    progress({ status: `Pulling from ${ref.path}`, id: ref.tag ?? ref.digest });
    // No lock while downloading: a lease keeps what this pull fetches from any GC (an rmi or a
    // prune meanwhile), and only the recording of the image waits for the image lock.
    const lease = images.lease({ blobs: [manifest.config.digest, resolved.manifestDescriptor.digest, ...manifest.layers.map((l) => l.digest)] });
    try {
      let configBytes: Buffer;
      if (await content.has(manifest.config.digest)) {
        configBytes = await content.readBytes(manifest.config.digest);
      } else {
        const response = await client.request('GET', `/v2/${ref.path}/blobs/${manifest.config.digest}`, { scope });
        if (!response.ok) throw await RegistryClient.errorFrom(response, `pulling config ${manifest.config.digest}`);
        configBytes = Buffer.from(await response.arrayBuffer());
        if (digestOf(configBytes) !== manifest.config.digest) throw new InvalidArgumentError(`image config verification failed for digest ${manifest.config.digest}`);
      }
      const config = parseImageConfig(configBytes);
      const diffIds = config.rootfs.diff_ids;
      if (diffIds.length !== manifest.layers.length) throw new InvalidArgumentError(`invalid image: the manifest lists ${manifest.layers.length} layers but the config ${diffIds.length}`);
      // Held before "Already exists" is decided, so a present layer cannot go before it is used.
      lease.add({ chains: chainIds(diffIds) });

      const throttle = new ProgressThrottle(() => this.deps.clock.nowMs());
      let parent: Digest | undefined;
      const present: boolean[] = [];
      for (const [i, layer] of manifest.layers.entries()) {
        parent = parent ? digestOf(`${parent} ${diffIds[i]}`) : diffIds[i]!;
        present.push(snapshotter.layer(parent) !== undefined && (await content.has(layer.digest)));
        progress({ status: present[i] ? 'Already exists' : 'Pulling fs layer', progressDetail: {}, id: shortId(layer.digest) });
      }
      await snapshotter.applyLayers(
        undefined,
        manifest.layers.map((layer, i) => ({
          // Every layer is checked against the config's DiffID; present chains are skipped.
          diffId: diffIds[i],
          open: () => {
            const id = shortId(layer.digest);
            const stream = downloadBlob({
              client,
              repo: ref.path,
              scope,
              digest: layer.digest,
              size: layer.size,
              content,
              onBytes: (received) => {
                if (throttle.due(id, received >= layer.size)) {
                  progress({ status: 'Downloading', progressDetail: { current: received, total: layer.size }, progress: progressBar(received, layer.size), id });
                }
              },
            });
            stream.once('end', () => {
              progress({ status: 'Download complete', progressDetail: {}, id });
            });
            return stream;
          },
        })),
        this.deps.config.maxConcurrentDownloads,
      );
      for (const [i, layer] of manifest.layers.entries()) if (!present[i]) progress({ status: 'Pull complete', progressDetail: {}, id: shortId(layer.digest) });
      // A chain that was already unpacked (say, from an import) may still lack this blob: fetch
      // it, and check it decompresses to the layer's DiffID before keeping it.
      for (const [i, layer] of manifest.layers.entries()) {
        if (await content.has(layer.digest)) continue;
        const stream = downloadBlob({ client, repo: ref.path, scope, digest: layer.digest, size: layer.size, content, onBytes: () => undefined });
        // Capped like an unpack: the check only hashes, but a small bomb could burn CPU for hours.
        const limit = this.deps.config.maxUnpackedBytes;
        const { stream: plain } = await openDecompressed(stream, limit === undefined ? {} : { maxUnpackedBytes: limit });
        const hash = createHash('sha256');
        for await (const chunk of plain) hash.update(chunk as Buffer);
        if (`sha256:${hash.digest('hex')}` !== diffIds[i]) {
          await content.delete(layer.digest);
          throw new InvalidArgumentError(`layer ${layer.digest} does not match DiffID ${diffIds[i]} of the image config`);
        }
      }
      await content.putBytes(resolved.manifestBytes, resolved.manifestDescriptor.digest);
      const repoDigest = `${ref.domain}/${ref.path}@${resolved.topDigest}`;
      const result = await images.exclusive(() => images.registerPulled(configBytes, manifest.layers, resolved.manifestDescriptor, ref.tag ? ref : undefined, repoDigest));
      await this.rememberSource(manifest.layers.map((l) => l.digest), `${ref.domain}/${ref.path}`);
      progress({ status: `Digest: ${resolved.topDigest}` });
      const allPresent = present.every(Boolean);
      progress({ status: `Status: ${result.existed && allPresent ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarReference(ref)}` });
      this.deps.publish({ Type: 'image', Action: 'pull', Actor: { ID: familiarReference(ref), Attributes: { name: familiarReference(ref) } } });
    } catch (err) {
      lease.release();
      await images.exclusive(() => images.collectUnused());
      throw err;
    } finally {
      lease.release();
    }
  }

  private sources = new Map<Digest, Set<string>>();

  private async rememberSource(digests: Digest[], repository: string): Promise<void> {
    for (const digest of digests) {
      const set = this.sources.get(digest) ?? new Set<string>();
      set.add(repository);
      this.sources.set(digest, set);
    }
  }

  /**
   * A gzip blob for a layer: the stored one when compressed, else made once and remembered. No
   * image names the gzip blob, so it is added to the push's lease before anything awaits; a GC that
   * ran between its ingest and the lease took it, and it is made again.
   */
  private async pushableLayer(layer: Descriptor, lease: Lease): Promise<Descriptor> {
    if (layer.mediaType !== MediaTypes.ociLayer && layer.mediaType !== MediaTypes.dockerLayer) return layer;
    const known = this.compressed.get(layer.digest);
    if (known) {
      lease.add({ blobs: [known.digest] });
      if (await this.deps.content.has(known.digest)) return known;
    }
    let blob: { digest: Digest; size: number };
    do {
      blob = await this.deps.content.ingest(this.deps.content.readStream(layer.digest).pipe(createGzip({ level: 6, chunkSize: 512 * 1024 })));
      lease.add({ blobs: [blob.digest] });
    } while (!(await this.deps.content.has(blob.digest)));
    const descriptor: Descriptor = { mediaType: MediaTypes.ociLayerGzip, digest: blob.digest, size: blob.size };
    this.compressed.set(layer.digest, descriptor);
    await writeFileAtomic(join(this.deps.stateDir, 'compressed.json'), JSON.stringify(Object.fromEntries(this.compressed)));
    return descriptor;
  }

  /** Which local tags a push sends: the one given, or every tag of the repository. */
  pushTargets(name: string, tag: string | undefined): ImageReference[] {
    const ref = parseNormalizedReference(name);
    if (ref.digest) throw new InvalidArgumentError('cannot push a digest reference');
    const wanted = tag || ref.tag;
    if (wanted) {
      const full = { ...ref, tag: wanted };
      try {
        this.deps.images.inspect(formatReference(full));
      } catch (err) {
        if (err instanceof NotFoundError) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarReference({ ...full, tag: undefined })}`);
        throw err;
      }
      return [full];
    }
    const all = this.deps.images.tagsOf(`${ref.domain}/${ref.path}`);
    if (all.length === 0) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarReference(ref)}`);
    return all;
  }

  async push(targets: ImageReference[], options: { auth?: AuthConfig }, progress: ProgressSink): Promise<void> {
    const first = targets[0]!;
    progress({ status: `The push refers to repository [${familiarReference({ ...first, tag: undefined })}]` });
    const client = this.client(first, options.auth);
    const scope = `repository:${first.path}:pull,push`;
    await client.ensureAuth(scope, first.path);
    for (const ref of targets) {
      const record = this.deps.images.imageForPush(formatReference(ref));
      // Taken in the same tick as the lookup: an rmi meanwhile untags the image, but what this
      // push reads stays until it is done.
      const lease = this.deps.images.lease({ blobs: [record.id, record.manifest.digest, ...record.layers.map((l) => l.digest)] });
      try {
        await this.pushImage(client, ref, scope, record, lease, progress);
      } finally {
        lease.release();
      }
    }
  }

  private async pushImage(client: RegistryClient, ref: ImageReference, scope: string, record: ImageRecord, lease: Lease, progress: ProgressSink): Promise<void> {
    const layers = await Promise.all(record.layers.map((l) => this.pushableLayer(l, lease)));
    const changed = layers.some((l, i) => l.digest !== record.layers[i]!.digest);
    for (const layer of layers) progress({ status: 'Preparing', progressDetail: {}, id: shortId(layer.digest) });
    const throttle = new ProgressThrottle(() => this.deps.clock.nowMs());
    const queue = [...layers].reverse();
    const worker = async () => {
      for (let layer = queue.shift(); layer; layer = queue.shift()) {
        const id = shortId(layer.digest);
        const outcome = await this.pushBlob(client, ref.path, scope, layer, (sent) => {
          if (throttle.due(id, sent >= layer!.size)) progress({ status: 'Pushing', progressDetail: { current: sent, total: layer!.size }, progress: progressBar(sent, layer!.size), id });
        });
        progress({ status: outcome, progressDetail: {}, id });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.deps.config.maxConcurrentUploads) }, worker));
    const configBytesValue = await this.deps.content.readBytes(record.id);
    await this.pushBlob(client, ref.path, scope, { mediaType: MediaTypes.ociConfig, digest: record.id, size: configBytesValue.length }, () => undefined);
    let manifestBytes: Buffer;
    let mediaType: string;
    if (!changed) {
      manifestBytes = await this.deps.content.readBytes(record.manifest.digest);
      mediaType = record.manifest.mediaType;
    } else {
      const document: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: { mediaType: MediaTypes.ociConfig, digest: record.id, size: configBytesValue.length }, layers };
      manifestBytes = Buffer.from(JSON.stringify(document));
      mediaType = MediaTypes.ociManifest;
      await this.deps.content.putBytes(manifestBytes);
    }
    const response = await client.request('PUT', `/v2/${ref.path}/manifests/${ref.tag}`, { scope, headers: { 'Content-Type': mediaType }, body: manifestBytes });
    if (!response.ok) throw await RegistryClient.errorFrom(response, `pushing manifest for ${familiarReference(ref)}`);
    await response.body?.cancel();
    const digest = digestOf(manifestBytes);
    progress({ status: `${ref.tag}: digest: ${digest} size: ${manifestBytes.length}` });
    progress({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: manifestBytes.length } });
    await this.deps.images.exclusive(() => this.deps.images.addRepoDigest(record.id, `${ref.domain}/${ref.path}@${digest}`));
    await this.rememberSource(layers.map((l) => l.digest), `${ref.domain}/${ref.path}`);
    this.deps.publish({ Type: 'image', Action: 'push', Actor: { ID: familiarReference(ref), Attributes: { name: familiarReference(ref) } } });
  }

  /** Returns Docker's line for the layer: "Layer already exists", "Mounted from x" or "Pushed". */
  private async pushBlob(client: RegistryClient, repo: string, scope: string, blob: Descriptor, onSent: (sent: number) => void): Promise<string> {
    const head = await client.request('HEAD', `/v2/${repo}/blobs/${blob.digest}`, { scope });
    await head.body?.cancel();
    if (head.ok) return 'Layer already exists';
    for (const source of this.sources.get(blob.digest) ?? []) {
      const sourceRepo = source.slice(source.indexOf('/') + 1);
      if (!source.startsWith(`${client.endpoint.host}/`) && !(client.endpoint.host === 'registry-1.docker.io' && source.startsWith('docker.io/'))) continue;
      if (sourceRepo === repo) continue;
      const mount = await client.request('POST', `/v2/${repo}/blobs/uploads/?mount=${blob.digest}&from=${encodeURIComponent(sourceRepo)}`, { scope: `${scope} repository:${sourceRepo}:pull` });
      await mount.body?.cancel();
      if (mount.status === 201) return `Mounted from ${sourceRepo}`;
      if (mount.status === 202) await this.cancelUpload(client, mount.headers.get('location'), scope);
    }
    const start = await client.request('POST', `/v2/${repo}/blobs/uploads/`, { scope });
    await start.body?.cancel();
    if (start.status !== 202) throw await RegistryClient.errorFrom(start, `starting the upload of ${blob.digest}`);
    let location = start.headers.get('location') ?? '';
    let sent = 0;
    // Opened before the upload: a blob that cannot be read fails this push with its own error.
    const file = await open(this.deps.content.path(blob.digest), 'r');
    const body = uploadBody(file.createReadStream({ highWaterMark: 1024 * 1024 }), (chunk) => onSent((sent += chunk.length)));
    const patch = await client.sendWithAuth('PATCH', absolute(client, location), { scope, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.size) }, body });
    await patch.body?.cancel();
    if (patch.status !== 202) throw await RegistryClient.errorFrom(patch, `uploading ${blob.digest}`);
    location = patch.headers.get('location') ?? location;
    const url = new URL(absolute(client, location));
    url.searchParams.set('digest', blob.digest);
    const put = await client.request('PUT', url.toString(), { scope, headers: { 'Content-Length': '0' } });
    await put.body?.cancel();
    if (put.status !== 201) throw await RegistryClient.errorFrom(put, `finishing the upload of ${blob.digest}`);
    return 'Pushed';
  }

  private async cancelUpload(client: RegistryClient, location: string | null, scope: string): Promise<void> {
    if (!location) return;
    const response = await client.request('DELETE', absolute(client, location), { scope }).catch(() => undefined);
    await response?.body?.cancel();
  }

  /** POST /auth: checks credentials against the registry. */
  async login(auth: AuthConfig): Promise<{ Status: string; IdentityToken: string }> {
    const server = (auth.serveraddress ?? '').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const domain = !server || /index\.docker\.io|registry-1\.docker\.io|^docker\.io$/.test(server) ? 'docker.io' : server;
    const ref: ImageReference = { domain, path: 'library/ping', tag: 'latest' };
    const client = this.client(ref, auth);
    let response: Response;
    try {
      response = await client.request('GET', '/v2/', { scope: '' });
    } catch (err) {
      // For login, a refusal is the 401 the CLI expects.
      if (err instanceof RegistryAuthError) throw new UnauthorizedError(err.message.includes('incorrect') ? err.message : 'unauthorized: incorrect username or password');
      throw err;
    }
    await response.body?.cancel();
    if (response.status === 401 || response.status === 403) throw new UnauthorizedError('unauthorized: incorrect username or password');
    if (!response.ok) throw await RegistryClient.errorFrom(response, `login to ${server}`);
    return { Status: 'Login Succeeded', IdentityToken: '' };
  }
}

function absolute(client: RegistryClient, location: string): string {
  return /^https?:\/\//.test(location) ? location : `${client.baseUrl()}${location}`;
}

/**
 * A request body as a web stream: a read error (the disk, a blob gone) fails the fetch it feeds,
 * where an erroring Node stream given to fetch would be an uncaught exception that ends berthd.
 */
function uploadBody(source: AsyncIterable<Buffer> & { destroy(): void }, onChunk: (chunk: Buffer) => void): ReadableStream<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) return controller.close();
        onChunk(next.value);
        controller.enqueue(next.value);
      } catch (err) {
        controller.error(err);
      }
    },
    cancel() {
      source.destroy();
    },
  });
}
