/**
 * The classic builder's cache: for each step, the image it produced from a parent image and an
 * instruction (with the checksums of copied files in it). Kept in one JSON file, rewritten
 * atomically after each build; entries whose image was deleted are dropped when seen.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../lib/atomic-file.js';
import type { Digest } from '../content/digest.js';

export interface CacheEntry {
  key: string;
  parent: Digest | 'scratch';
  image: Digest;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string;
  usageCount: number;
}

export function cacheKey(parent: Digest | undefined, createdBy: string, resultConfig: unknown): string {
  return createHash('sha256').update(JSON.stringify([parent ?? 'scratch', createdBy, resultConfig])).digest('hex');
}

export class BuildCache {
  private readonly entries = new Map<string, CacheEntry>();
  private parents = new Set<string>();
  /** Entries were added or dropped since the last save (usage counts alone wait for one). */
  private changed = false;
  private used = false;

  constructor(private readonly file: string, private readonly now: () => string) {}

  async load(): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '[]';
      throw err;
    });
    for (const entry of JSON.parse(text) as CacheEntry[]) this.entries.set(entry.key, entry);
    this.reindex();
  }

  private reindex(): void {
    this.parents = new Set([...this.entries.values()].map((e) => e.parent));
  }

  /** The image cached for `key`, if `exists` still says it is there (and marks it used). */
  lookup(key: string, exists: (id: Digest) => boolean): Digest | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (!exists(entry.image)) {
      this.entries.delete(key);
      this.reindex();
      this.changed = true;
      return undefined;
    }
    entry.lastUsedAt = this.now();
    entry.usageCount++;
    this.used = true;
    return entry.image;
  }

  record(key: string, parent: Digest | undefined, image: Digest, createdBy: string): void {
    const now = this.now();
    this.entries.set(key, { key, parent: parent ?? 'scratch', image, createdBy, createdAt: now, lastUsedAt: now, usageCount: 0 });
    this.parents.add(parent ?? 'scratch');
    this.changed = true;
  }

  /** True for an image a cached step builds on (Docker's "image with children"). */
  isIntermediate(id: Digest): boolean {
    return this.parents.has(id);
  }

  all(): CacheEntry[] {
    return [...this.entries.values()];
  }

  forget(images: ReadonlySet<string>): void {
    for (const [key, entry] of this.entries) if (images.has(entry.image)) this.entries.delete(key);
    this.reindex();
    this.changed = true;
  }

  /**
   * Writes the index when entries changed. A fully cached build only bumps usage counts, which
   * are written with the next change or at berthd's stop (`force`), not with two fsyncs per build.
   */
  async save(force = false): Promise<void> {
    if (!this.changed && !(force && this.used)) return;
    await writeFileAtomic(this.file, JSON.stringify([...this.entries.values()]));
    this.changed = false;
    this.used = false;
  }
}
