/**
 * Work in progress that garbage collection must leave alone, as containerd's leases: a pull holds
 * the blobs and layer chains it is fetching until its image is recorded, a container create holds
 * its chain until its record names it. Holds are counted, so two holders of one chain both count.
 */
import type { Digest } from '../content/digest.js';

export interface Lease {
  /** Holds more chains and blobs under this lease. */
  add(items: { chains?: readonly Digest[]; blobs?: readonly Digest[] }): void;
  /** Ends the lease (again is a no-op). */
  release(): void;
}

export class Leases {
  private readonly chains = new Map<Digest, number>();
  private readonly blobs = new Map<Digest, number>();

  /** A new lease over `items`; release it in a finally. */
  take(items: { chains?: readonly Digest[]; blobs?: readonly Digest[] } = {}): Lease {
    const heldChains: Digest[] = [];
    const heldBlobs: Digest[] = [];
    let released = false;
    const lease: Lease = {
      add: ({ chains = [], blobs = [] }) => {
        if (released) throw new Error('lease already released');
        for (const chain of chains) {
          increment(this.chains, chain);
          heldChains.push(chain);
        }
        for (const blob of blobs) {
          increment(this.blobs, blob);
          heldBlobs.push(blob);
        }
      },
      release: () => {
        if (released) return;
        released = true;
        for (const chain of heldChains) decrement(this.chains, chain);
        for (const blob of heldBlobs) decrement(this.blobs, blob);
      },
    };
    lease.add(items);
    return lease;
  }

  heldChains(): Digest[] {
    return [...this.chains.keys()];
  }

  holdsBlob(digest: Digest): boolean {
    return this.blobs.has(digest);
  }
}

function increment(counts: Map<Digest, number>, key: Digest): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function decrement(counts: Map<Digest, number>, key: Digest): void {
  const left = (counts.get(key) ?? 0) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}
