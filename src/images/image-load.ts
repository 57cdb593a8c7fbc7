/**
 * Reads an image archive (`docker save` output: docker-archive with manifest.json, OCI layout
 * with index.json, or Docker 25's combined form) into the content store, and says which images
 * it holds. Blobs named by digest are verified as they stream in.
 */
import { Readable } from 'node:stream';
import { posix } from 'node:path';
import { InvalidArgumentError } from '../lib/errors.js';
import { readTar } from '../archive/tar-reader.js';
import { cleanEntryPath } from '../archive/entry-path.js';
import { TarFormatError } from '../archive/tar-header.js';
import { openDecompressed, UnpackLimitError } from '../archive/compression.js';
import type { ContentStore } from '../content/index.js';
import type { Digest } from '../content/digest.js';
import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, INDEX_TYPES, parseIndex, parseManifest, type Descriptor, type Platform } from '../oci/index.js';

/** One image found in an archive, with its blobs already in the content store. */
export interface ArchiveImage {
  config: Digest;
  /** The manifest blob when the archive had one (OCI layout); else berth writes one. */
  manifest?: Descriptor;
  layers: Digest[];
  /** References as written in the archive (familiar or full). */
  names: string[];
}

const SMALL_FILES = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);
const MAX_SMALL = 16 * 1024 * 1024;

/**
 * Reads the archive in `source`, which may be gzip or zstd compressed as `docker load` accepts;
 * a compressed archive may unpack to at most `maxUnpackedBytes`. Nothing is written but blobs.
 */
export async function readImageArchive(source: Readable, content: ContentStore, platform: Platform, limits: { maxUnpackedBytes?: number } = {}): Promise<ArchiveImage[]> {
  const small = new Map<string, Buffer>();
  const files = new Map<string, Digest>();
  const aliases = new Map<string, string>();
  try {
    const { stream } = await openDecompressed(source, limits);
    for await (const entry of readTar(stream as AsyncIterable<Buffer>)) {
      const path = cleanEntryPath(entry.header.name);
      if (entry.header.type === 'symlink' || entry.header.type === 'link') {
        const target = entry.header.type === 'symlink' ? posix.normalize(posix.join(posix.dirname(path), entry.header.linkname)) : cleanEntryPath(entry.header.linkname);
        aliases.set(path, target);
        continue;
      }
      if (entry.header.type !== 'file') continue;
      if (SMALL_FILES.has(path)) {
        if (entry.header.size > MAX_SMALL) throw new InvalidArgumentError(`invalid archive: ${path} is too large`);
        const chunks: Buffer[] = [];
        for await (const chunk of entry.data()) chunks.push(chunk);
        small.set(path, Buffer.concat(chunks));
        continue;
      }
      const blob = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
      const expected = blob ? (`sha256:${blob[1]}` as Digest) : undefined;
      try {
        const info = await content.ingest(Readable.from(entry.data()), { digest: expected, size: entry.header.size });
        files.set(path, info.digest);
      } catch (err) {
        if (/mismatch/.test((err as Error).message)) throw new InvalidArgumentError(`invalid archive: ${path} does not match its digest (${(err as Error).message})`);
        throw err;
      }
    }
  } catch (err) {
    if (err instanceof TarFormatError || err instanceof UnpackLimitError) throw new InvalidArgumentError(`invalid archive: ${err.message}`, { cause: err });
    throw err;
  }

  const fileDigest = (name: string, what: string): Digest => {
    let path = cleanEntryPath(name);
    for (let hops = 0; aliases.has(path) && hops < 8; hops++) path = aliases.get(path)!;
    const digest = files.get(path);
    if (digest) return digest;
    throw new InvalidArgumentError(`invalid archive: ${what} ${name} is missing from the archive`);
  };
  const blobOf = async (digest: Digest, what: string): Promise<Buffer> => {
    if (!(await content.has(digest))) throw new InvalidArgumentError(`invalid archive: ${what} ${digest} is missing from the archive`);
    return content.readBytes(digest);
  };

  const manifestJson = small.get('manifest.json');
  if (manifestJson) {
    let items: unknown;
    try {
      items = JSON.parse(manifestJson.toString());
    } catch {
      throw new InvalidArgumentError('invalid archive: manifest.json is not JSON');
    }
    if (!Array.isArray(items)) throw new InvalidArgumentError('invalid archive: manifest.json must be a list');
    return items.map((item: { Config?: unknown; Layers?: unknown; RepoTags?: unknown }) => {
      if (typeof item.Config !== 'string' || !Array.isArray(item.Layers)) throw new InvalidArgumentError('invalid archive: manifest.json entries need Config and Layers');
      return {
        config: fileDigest(item.Config, 'config'),
        layers: (item.Layers as string[]).map((layer) => fileDigest(layer, 'layer')),
        names: Array.isArray(item.RepoTags) ? (item.RepoTags as string[]) : [],
      };
    });
  }

  const indexJson = small.get('index.json');
  if (!indexJson) throw new InvalidArgumentError('invalid archive: it has neither manifest.json (docker-archive) nor index.json (OCI layout)');
  const images: ArchiveImage[] = [];
  for (const descriptor of parseIndex(indexJson).manifests) {
    const manifest = await chooseManifest(descriptor, platform, blobOf);
    if (!manifest) continue;
    const parsed = parseManifest(await blobOf(manifest.digest, 'manifest'));
    for (const layer of parsed.layers) await blobOf(layer.digest, 'layer');
    await blobOf(parsed.config.digest, 'config');
    const name = descriptor.annotations?.[ANNOTATION_CONTAINERD_NAME] ?? fullRefName(descriptor.annotations?.[ANNOTATION_REF_NAME]);
    const existing = images.find((i) => i.manifest?.digest === manifest.digest);
    if (existing) {
      if (name) existing.names.push(name);
      continue;
    }
    images.push({ config: parsed.config.digest, manifest, layers: parsed.layers.map((l) => l.digest), names: name ? [name] : [] });
  }
  if (images.length === 0) throw new InvalidArgumentError(`invalid archive: no image for ${platform.os}/${platform.architecture} in index.json`);
  return images;
}

/** OCI ref names may be a whole reference or just a tag; only a whole one names an image. */
function fullRefName(name: string | undefined): string | undefined {
  return name && /[/:]/.test(name) && !/^[\w][\w.-]*$/.test(name) ? name : undefined;
}

async function chooseManifest(descriptor: Descriptor, platform: Platform, blobOf: (d: Digest, what: string) => Promise<Buffer>): Promise<Descriptor | undefined> {
  if (!INDEX_TYPES.includes(descriptor.mediaType)) {
    return !descriptor.platform || matchesPlatform(descriptor.platform, platform) ? descriptor : undefined;
  }
  const nested = parseIndex(await blobOf(descriptor.digest, 'index'));
  const candidates = nested.manifests.filter((m) => !INDEX_TYPES.includes(m.mediaType) && m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest');
  const chosen = candidates.find((m) => m.platform && matchesPlatform(m.platform, platform)) ?? candidates.find((m) => !m.platform);
  return chosen && { ...chosen, annotations: descriptor.annotations };
}

export function matchesPlatform(candidate: Platform, wanted: Platform): boolean {
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  return !wanted.variant || !candidate.variant || candidate.variant === wanted.variant;
}

