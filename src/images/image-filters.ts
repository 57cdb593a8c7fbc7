/** The `filters` of `GET /images/json` and `POST /images/prune`, matched against one image. */
import { matchesLabelFilters } from '../lib/label-filter.js';
import { InvalidArgumentError } from '../lib/errors.js';
import { globMatch } from '../lib/glob.js';
import type { ImageConfig } from '../oci/index.js';
import { familiarReference, familiarRepository, parseNormalizedReference } from './reference.js';

export const LIST_FILTER_KEYS = ['dangling', 'label', 'reference', 'before', 'since', 'until'] as const;
export const PRUNE_FILTER_KEYS = ['dangling', 'label', 'label!', 'until'] as const;

export type FilterMap = ReadonlyMap<string, readonly string[]>;

export function danglingFilter(filters: FilterMap): boolean | undefined {
  const values = filters.get('dangling');
  if (!values || values.length === 0) return undefined;
  const parsed = new Set(values.map((v) => {
    const lower = v.toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
    throw new InvalidArgumentError(`invalid filter 'dangling=${v}'`);
  }));
  if (parsed.size > 1) throw new InvalidArgumentError('invalid filter: dangling cannot be both true and false');
  return [...parsed][0];
}

export function matchesLabels(config: ImageConfig, filters: FilterMap): boolean {
  return matchesLabelFilters(config.config?.Labels ?? {}, filters.get('label'), filters.get('label!'));
}

/** Tags of an image that match every `reference` pattern (Docker's FamiliarMatch). */
export function matchingTags(repoTags: readonly string[], patterns: readonly string[]): string[] {
  return repoTags.filter((tag) =>
    patterns.every((pattern) => {
      if (globMatch(pattern, tag)) return true;
      try {
        return globMatch(pattern, familiarRepository(parseNormalizedReference(tag))) || globMatch(pattern, familiarReference(parseNormalizedReference(tag)));
      } catch {
        return false;
      }
    }),
  );
}

/** `until` as Docker takes it: a Unix time, an RFC 3339 time, or a duration before `nowMs`. */
export function parseUntil(value: string, nowMs: number): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const duration = /^(\d+)(s|m|h)$/.exec(value);
  if (duration) return nowMs - Number(duration[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[duration[2] as 's' | 'm' | 'h'];
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`invalid filter 'until=${value}': not a timestamp or duration`);
  return ms;
}
