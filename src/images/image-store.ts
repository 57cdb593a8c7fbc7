/**
 * Image records and the references that name them, one JSON document per image plus one for
 * all references, each written atomically; indexes live in memory. Lookup follows Docker: a
 * reference first, then a full ID, then a unique ID prefix.
 */
import { mkdir, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { InvalidArgumentError, NotFoundError, errnoCode } from '../lib/errors.js';
import { digestHex, type Digest } from '../content/digest.js';
import type { ImageRecord } from './image-record.js';
import { familiarReference, formatReference, parseNormalizedReference, withDefaultTag, type ImageReference } from './reference.js';

function parseRecord(text: string): ImageRecord | undefined {
  try {
    const record = JSON.parse(text) as ImageRecord;
    return typeof record.id === 'string' && Array.isArray(record.diffIds) && Array.isArray(record.layers) && record.manifest ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Temp files of writeFileAtomic (".<name>.<hex>.tmp") a crash left in `dir`. */
async function removeAtomicTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (/^\..+\.[0-9a-f]{12}\.tmp$/.test(name)) await unlink(join(dir, name)).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
  }
}

export interface ResolvedImage {
  record: ImageRecord;
  /** The reference the term named, when it was one. */
  reference?: ImageReference;
}

export class ImageStore {
  private readonly records = new Map<Digest, ImageRecord>();
  /** Full reference string ("docker.io/library/busybox:latest") -> image ID. */
  private references = new Map<string, Digest>();

  private constructor(private readonly root: string) {}

  /**
   * Loads records and references. A crash leaves at most temp files of atomic writes (removed);
   * a record that does not parse is set aside as `.corrupt` for the operator, never deleted; any
   * read error other than ENOENT stops the open.
   */
  static async open(root: string): Promise<ImageStore> {
    const store = new ImageStore(root);
    const recordsDir = join(root, 'records');
    await mkdir(recordsDir, { recursive: true, mode: 0o700 });
    await removeAtomicTemps(root);
    await removeAtomicTemps(recordsDir);
    for (const name of await readdir(recordsDir)) {
      if (!name.endsWith('.json')) continue;
      let text: string;
      try {
        text = await readFile(join(recordsDir, name), 'utf8');
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        throw err;
      }
      const record = parseRecord(text);
      if (record && `${digestHex(record.id)}.json` === name) store.records.set(record.id, record);
      else await rename(join(recordsDir, name), join(recordsDir, `${name}.corrupt`));
    }
    try {
      const refs = JSON.parse(await readFile(join(root, 'references.json'), 'utf8')) as Record<string, Digest>;
      for (const [ref, id] of Object.entries(refs)) if (store.records.has(id)) store.references.set(ref, id);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    return store;
  }

  all(): ImageRecord[] {
    return [...this.records.values()];
  }

  get(id: Digest): ImageRecord | undefined {
    return this.records.get(id);
  }

  async put(record: ImageRecord): Promise<void> {
    await writeFileAtomic(join(this.root, 'records', `${digestHex(record.id)}.json`), JSON.stringify(record));
    this.records.set(record.id, record);
  }

  async remove(id: Digest): Promise<void> {
    let changed = false;
    for (const [ref, target] of this.references) {
      if (target === id) {
        this.references.delete(ref);
        changed = true;
      }
    }
    if (changed) await this.saveReferences();
    // The file goes first: a record that failed to go must stay known, or its layers would be
    // collected while the record comes back at the next start.
    await unlink(join(this.root, 'records', `${digestHex(id)}.json`)).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
    this.records.delete(id);
  }

  /** Points `ref` at `id`; returns the image it pointed at before, if another. */
  async tag(ref: ImageReference, id: Digest): Promise<Digest | undefined> {
    const key = formatReference(ref);
    const previous = this.references.get(key);
    this.references.set(key, id);
    await this.saveReferences();
    return previous !== id ? previous : undefined;
  }

  async untag(ref: ImageReference): Promise<boolean> {
    const deleted = this.references.delete(formatReference(ref));
    if (deleted) await this.saveReferences();
    return deleted;
  }

  /** Full reference strings naming `id`, sorted. */
  referencesOf(id: Digest): string[] {
    return [...this.references].filter(([, target]) => target === id).map(([ref]) => ref).sort();
  }

  /** Tags of `id` in the familiar form Docker shows ("busybox:latest"). */
  repoTags(id: Digest): string[] {
    return this.referencesOf(id).map((ref) => familiarReference(parseNormalizedReference(ref)));
  }

  /** Resolves what a user typed: a reference, an ID, or an ID prefix. */
  resolve(term: string): ResolvedImage {
    const fullId = /^sha256:[a-f0-9]{64}$/.test(term) ? (term as Digest) : /^[a-f0-9]{64}$/.test(term) ? (`sha256:${term}` as Digest) : undefined;
    if (fullId) {
      const record = this.records.get(fullId);
      if (record) return { record };
      throw new NotFoundError(`No such image: ${term}`);
    }
    let reference: ImageReference | undefined;
    try {
      reference = withDefaultTag(parseNormalizedReference(term));
    } catch (err) {
      if (!/^(sha256:)?[a-f0-9]+$/.test(term)) throw err;
    }
    if (reference) {
      const byRef = this.lookupReference(reference);
      if (byRef) return { record: byRef, reference };
    }
    const prefix = term.replace(/^sha256:/, '');
    if (/^[a-f0-9]+$/.test(prefix)) {
      const matches = [...this.records.keys()].filter((id) => digestHex(id).startsWith(prefix));
      if (matches.length > 1) throw new InvalidArgumentError(`multiple IDs found with provided prefix: ${prefix}`);
      if (matches.length === 1) return { record: this.records.get(matches[0]!)! };
    }
    throw new NotFoundError(`No such image: ${reference ? familiarReference(reference) : term}`);
  }

  private lookupReference(reference: ImageReference): ImageRecord | undefined {
    if (reference.digest) {
      const wanted = `${reference.domain}/${reference.path}@${reference.digest}`;
      const byDigest = [...this.records.values()].find((r) => r.repoDigests.includes(wanted) || (r.manifest.digest === reference.digest && this.referencesOf(r.id).some((ref) => ref.startsWith(`${reference.domain}/${reference.path}:`))));
      if (byDigest) return byDigest;
      return undefined;
    }
    const id = this.references.get(formatReference(reference));
    return id ? this.records.get(id) : undefined;
  }

  private async saveReferences(): Promise<void> {
    const sorted = Object.fromEntries([...this.references].sort(([a], [b]) => (a < b ? -1 : 1)));
    await writeFileAtomic(join(this.root, 'references.json'), JSON.stringify(sorted, null, 1));
  }
}
