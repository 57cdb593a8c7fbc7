/**
 * Offline garbage collection: mark every blob a repository's manifests reach (manifest, config,
 * layers, index children), then sweep the rest and the links to them. Run it while the registry
 * is stopped or read-only, as with distribution: a push between its blob uploads and its manifest
 * would otherwise lose the blobs.
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../content/digest.js';
import type { RegistryStorage } from './registry-storage.js';

export interface GcReport {
  marked: number;
  swept: { digest: Digest; size: number }[];
  dryRun: boolean;
}

export async function garbageCollect(storage: RegistryStorage, options: { dryRun: boolean }): Promise<GcReport> {
  const marked = new Set<Digest>();
  const visit = async (digest: Digest): Promise<void> => {
    if (marked.has(digest)) return;
    marked.add(digest);
    let document: { config?: { digest: Digest }; layers?: { digest: Digest }[]; manifests?: { digest: Digest }[] };
    try {
      document = JSON.parse((await storage.manifestBytes(digest)).toString()) as typeof document;
    } catch {
      return;
    }
    if (document.config) marked.add(document.config.digest);
    for (const layer of document.layers ?? []) marked.add(layer.digest);
    for (const child of document.manifests ?? []) await visit(child.digest);
  };
  for (const name of await storage.repositories()) {
    for (const revision of await storage.revisions(name)) await visit(revision);
  }
  const swept: { digest: Digest; size: number }[] = [];
  for (const blob of await storage.content.list()) {
    if (marked.has(blob.digest)) continue;
    swept.push(blob);
    if (!options.dryRun) await storage.content.delete(blob.digest);
  }
  if (!options.dryRun && swept.length) {
    const gone = new Set(swept.map((b) => b.digest.slice('sha256:'.length)));
    for (const name of await storage.repositories()) {
      const dir = join(storage.root, 'repositories', name, '_layers');
      for (const hex of await readdir(dir).catch(() => [] as string[])) if (gone.has(hex)) await unlink(join(dir, hex)).catch(() => undefined);
    }
  }
  return { marked: marked.size, swept, dryRun: options.dryRun };
}
