/** OCI digests: "sha256:<64 hex>", the only algorithm berth stores. */
import { createHash, type Hash } from 'node:crypto';
import { InvalidArgumentError } from '../lib/errors.js';

export type Digest = `sha256:${string}`;

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(text: string): text is Digest {
  return DIGEST.test(text);
}

export function parseDigest(text: string): Digest {
  if (!isDigest(text)) throw new InvalidArgumentError(`invalid digest "${text}": expected sha256:<64 lowercase hex digits>`);
  return text;
}

export function digestHex(digest: Digest): string {
  return digest.slice('sha256:'.length);
}

export function sha256Hasher(): Hash {
  return createHash('sha256');
}

export function digestOf(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
