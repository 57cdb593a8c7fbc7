/**
 * Writes images as Docker 25+ does: one tar that is both a docker-archive (manifest.json,
 * repositories) and an OCI image layout (oci-layout, index.json, blobs/sha256/...), so docker,
 * skopeo and umoci can all read it.
 */
import { END_OF_ARCHIVE, encodeHeader, paddingFor } from '../archive/tar-header.js';
import { makeHeader } from '../archive/tar-writer.js';
import type { ContentReader } from '../content/index.js';
import { digestHex, type Digest } from '../content/digest.js';
import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME } from '../oci/index.js';
import type { ImageRecord } from './image-record.js';
import { familiarReference, familiarRepository, formatReference, type ImageReference } from './reference.js';

export interface SaveItem {
  record: ImageRecord;
  /** Tags to write for this image (none when it was named by ID). */
  references: ImageReference[];
}

function jsonEntry(name: string, value: unknown): Buffer {
  const data = Buffer.from(JSON.stringify(value));
  return Buffer.concat([encodeHeader(makeHeader({ name, data, mode: 0o644 })), data, paddingFor(data.length)]);
}

/** The archive as a stream of chunks; blobs are read from the store as they are written. */
export async function* writeImageArchive(items: readonly SaveItem[], content: ContentReader): AsyncGenerator<Buffer> {
  yield encodeHeader(makeHeader({ name: 'blobs/', type: 'dir' }));
  yield encodeHeader(makeHeader({ name: 'blobs/sha256/', type: 'dir' }));
  const written = new Set<Digest>();
  for (const { record } of items) {
    for (const digest of [...record.layers.map((l) => l.digest), record.id, record.manifest.digest]) {
      if (written.has(digest)) continue;
      written.add(digest);
      const { size } = await content.info(digest);
      yield encodeHeader(makeHeader({ name: `blobs/sha256/${digestHex(digest)}`, size, mode: 0o644 }));
      let sent = 0;
      for await (const chunk of content.readStream(digest)) {
        sent += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (sent !== size) throw new Error(`blob ${digest} changed while it was being saved`);
      const pad = paddingFor(size);
      if (pad.length) yield pad;
    }
  }

  const manifests = items.flatMap(({ record, references }) => {
    const base = { mediaType: record.manifest.mediaType, digest: record.manifest.digest, size: record.manifest.size };
    if (references.length === 0) return [base];
    return references.map((ref) => ({
      ...base,
      annotations: { [ANNOTATION_CONTAINERD_NAME]: formatReference(ref), [ANNOTATION_REF_NAME]: ref.tag ?? 'latest' },
    }));
  });
  yield jsonEntry('index.json', { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests });
  yield jsonEntry(
    'manifest.json',
    items.map(({ record, references }) => ({
      Config: `blobs/sha256/${digestHex(record.id)}`,
      RepoTags: references.length ? references.map(familiarReference) : null,
      Layers: record.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
    })),
  );
  yield jsonEntry('oci-layout', { imageLayoutVersion: '1.0.0' });
  const repositories: Record<string, Record<string, string>> = {};
  for (const { record, references } of items) {
    const top = record.layers[record.layers.length - 1];
    for (const ref of references) {
      if (!top || !ref.tag) continue;
      (repositories[familiarRepository(ref)] ??= {})[ref.tag] = digestHex(top.digest);
    }
  }
  yield jsonEntry('repositories', repositories);
  yield END_OF_ARCHIVE;
}
