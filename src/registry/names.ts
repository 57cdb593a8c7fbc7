/** Repository names, tags and digests as the distribution spec allows them. */
import { isDigest, type Digest } from '../content/digest.js';
import { RegistryError } from './registry-errors.js';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const MAX_NAME_LENGTH = 255;

export function checkName(name: string): string {
  if (name.length > MAX_NAME_LENGTH) throw new RegistryError('NAME_INVALID', `repository name must not be more than ${MAX_NAME_LENGTH} characters`, { name: name.slice(0, 64) + '...' });
  if (!NAME.test(name)) throw new RegistryError('NAME_INVALID', 'invalid repository name', { name });
  return name;
}

export type ManifestReference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

export function parseManifestReference(reference: string): ManifestReference {
  if (reference.includes(':')) {
    if (!isDigest(reference)) throw new RegistryError('DIGEST_INVALID', 'invalid or unsupported digest', { digest: reference });
    return { kind: 'digest', digest: reference };
  }
  if (!TAG.test(reference)) throw new RegistryError('MANIFEST_INVALID', 'invalid tag', { tag: reference });
  return { kind: 'tag', tag: reference };
}

export function parseBlobDigest(text: string): Digest {
  if (!isDigest(text)) throw new RegistryError('DIGEST_INVALID', 'invalid or unsupported digest', { digest: text });
  return text;
}
