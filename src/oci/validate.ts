/** Parsing untrusted image documents into typed ones, with errors that say what is wrong. */
import { InvalidArgumentError } from '../lib/errors.js';
import { isDigest } from '../content/digest.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from './image-spec.js';

function parseJson(bytes: Buffer | string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString());
  } catch (err) {
    throw new InvalidArgumentError(`invalid ${what}: not JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError(`invalid ${what}: not a JSON object`);
  return value as Record<string, unknown>;
}

function checkDescriptor(value: unknown, what: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (!d || typeof d !== 'object' || typeof d.mediaType !== 'string' || typeof d.digest !== 'string' || typeof d.size !== 'number') {
    throw new InvalidArgumentError(`invalid ${what}: a descriptor needs mediaType, digest and size`);
  }
  if (!isDigest(d.digest)) throw new InvalidArgumentError(`invalid ${what}: unsupported digest ${d.digest}`);
  return d as Descriptor;
}

export function parseImageConfig(bytes: Buffer | string): ImageConfig {
  const config = parseJson(bytes, 'image config');
  const rootfs = config['rootfs'] as { type?: unknown; diff_ids?: unknown } | undefined;
  if (!rootfs || !Array.isArray(rootfs.diff_ids) || !rootfs.diff_ids.every((d) => typeof d === 'string' && isDigest(d))) {
    throw new InvalidArgumentError('invalid image config: rootfs.diff_ids must be a list of sha256 digests');
  }
  if (typeof config['architecture'] !== 'string' || typeof config['os'] !== 'string') {
    throw new InvalidArgumentError('invalid image config: architecture and os are required');
  }
  return config as unknown as ImageConfig;
}

export function parseManifest(bytes: Buffer | string): ImageManifest {
  const manifest = parseJson(bytes, 'image manifest');
  if (manifest['schemaVersion'] === 1) {
    throw new InvalidArgumentError('support for Docker Image Format v1 and Docker Image manifest version 2, schema 1 has been removed');
  }
  if (manifest['schemaVersion'] !== 2) throw new InvalidArgumentError('invalid image manifest: schemaVersion must be 2');
  checkDescriptor(manifest['config'], 'image manifest config');
  if (!Array.isArray(manifest['layers'])) throw new InvalidArgumentError('invalid image manifest: layers must be a list');
  manifest['layers'].forEach((layer) => checkDescriptor(layer, 'image manifest layer'));
  return manifest as unknown as ImageManifest;
}

export function parseIndex(bytes: Buffer | string): ImageIndex {
  const index = parseJson(bytes, 'image index');
  if (index['schemaVersion'] !== 2 || !Array.isArray(index['manifests'])) throw new InvalidArgumentError('invalid image index: schemaVersion 2 and manifests are required');
  index['manifests'].forEach((m) => checkDescriptor(m, 'image index entry'));
  return index as unknown as ImageIndex;
}
