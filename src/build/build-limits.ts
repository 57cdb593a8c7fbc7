/** What a build may take in from outside: the context, ADD archives and ADD downloads. */
import { DEFAULT_MAX_UNPACKED_BYTES } from '../archive/compression.js';
import { DEFAULT_URL_DOWNLOAD_LIMITS, type UrlDownloadLimits } from './url-download.js';

export interface BuildLimits {
  /** Bytes a compressed context or ADD archive may unpack to. */
  maxUnpackedBytes: number;
  url: UrlDownloadLimits;
}

export const DEFAULT_BUILD_LIMITS: BuildLimits = { maxUnpackedBytes: DEFAULT_MAX_UNPACKED_BYTES, url: DEFAULT_URL_DOWNLOAD_LIMITS };

/** The defaults with what `overrides` sets. */
export function buildLimits(overrides: { maxUnpackedBytes?: number; url?: Partial<UrlDownloadLimits> } = {}): BuildLimits {
  return {
    maxUnpackedBytes: overrides.maxUnpackedBytes ?? DEFAULT_BUILD_LIMITS.maxUnpackedBytes,
    url: { ...DEFAULT_URL_DOWNLOAD_LIMITS, ...overrides.url },
  };
}
