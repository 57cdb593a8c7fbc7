/** The contract for layer storage: read-only layers by chain ID, and writable snapshots on top. */
import type { Readable } from 'node:stream';
import { digestOf, type Digest } from '../content/digest.js';

export interface LayerInfo {
  chainId: Digest;
  diffId: Digest;
  parent?: Digest;
  /** Bytes of file content in this layer alone. */
  size: number;
}

export interface LayerSource {
  open(): Readable;
  /** When known (from an image config), a layer already unpacked is not read again. */
  diffId?: Digest;
}

export interface Mount {
  type: string;
  source: string;
  options: string[];
  /** Directory the mount must be made from (overlay's short relative lower paths). */
  cwd?: string;
}

export interface Snapshotter {
  /** Unpacks a layer on top of `parent` (once: an existing chain is reused). */
  applyLayer(parent: Digest | undefined, source: Readable, expectedDiffId?: Digest): Promise<LayerInfo>;
  /**
   * Unpacks a chain of layers on top of `parent`, several at once (each layer's directory is
   * independent of the others), committing them in order. Returns one LayerInfo per layer.
   */
  applyLayers(parent: Digest | undefined, layers: readonly LayerSource[], concurrency?: number): Promise<LayerInfo[]>;
  layer(chainId: Digest): LayerInfo | undefined;
  layers(): LayerInfo[];
  removeLayer(chainId: Digest): Promise<void>;
  /** A writable snapshot named `key` over the chain `parent` (upper and work dirs). */
  prepare(key: string, parent: Digest | undefined): Promise<Mount[]>;
  mounts(key: string): Promise<Mount[]>;
  /** The directory holding the snapshot's changes, for diff and commit. */
  upperDir(key: string): string;
  /** The snapshot's read-only layers, topmost first (absolute paths). */
  lowerDirs(key: string): Promise<string[]>;
  remove(key: string): Promise<void>;
  /** Keys of every snapshot on disk, finished or not: what a reconcile compares with its records. */
  keys(): Promise<string[]>;
}

/** chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)). */
export function chainIdOf(parent: Digest | undefined, diffId: Digest): Digest {
  return parent ? digestOf(`${parent} ${diffId}`) : diffId;
}

export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  let parent: Digest | undefined;
  for (const diffId of diffIds) {
    parent = chainIdOf(parent, diffId);
    out.push(parent);
  }
  return out;
}
