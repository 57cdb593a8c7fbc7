/** A local volume's record (`volume.json` beside its `_data`), and how one read from disk is checked. */

export interface VolumeRecord {
  name: string;
  driver: 'local';
  labels: Record<string, string>;
  options: Record<string, string>;
  createdAt: string;
  /** Created for an image VOLUME or a `-v /path` without a name: `rm -v` and prune take it. */
  anonymous: boolean;
}

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

/**
 * The record in `text` for the volume in directory `name`, or undefined when it is not one (bad
 * JSON, wrong types). The directory names the volume; fields an older berth did not write get
 * their defaults.
 */
export function parseVolumeRecord(text: string, name: string, fallbackCreatedAt: string): VolumeRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const raw = value as Record<string, unknown>;
  const labels = raw['labels'] ?? {};
  const options = raw['options'] ?? {};
  const createdAt = raw['createdAt'] ?? fallbackCreatedAt;
  if ((raw['driver'] ?? 'local') !== 'local' || !isStringMap(labels) || !isStringMap(options) || typeof createdAt !== 'string') return undefined;
  const anonymous = typeof raw['anonymous'] === 'boolean' ? raw['anonymous'] : ANONYMOUS_LABEL in labels;
  return { name, driver: 'local', labels, options, createdAt, anonymous };
}

/** What a volume found on disk without a usable record becomes: a plain local volume, kept, not anonymous (so prune leaves it). */
export function recoveredVolumeRecord(name: string, createdAt: string): VolumeRecord {
  return { name, driver: 'local', labels: {}, options: {}, createdAt, anonymous: false };
}
