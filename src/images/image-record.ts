/** What berth keeps about one image; the image ID is its config's digest. */
import type { Digest } from '../content/digest.js';
import type { Descriptor } from '../oci/index.js';

export interface ImageRecord {
  id: Digest;
  /** The manifest blob in the content store. */
  manifest: Descriptor;
  /** Layer blobs, in the order of the config's diff_ids. */
  layers: Descriptor[];
  diffIds: Digest[];
  /** Bytes of file content over all layers. */
  size: number;
  /** When berth stored the image (RFC 3339). */
  addedAt: string;
  lastTagTime?: string;
  /** "docker.io/library/busybox@sha256:...": set by pulls. */
  repoDigests: string[];
}
