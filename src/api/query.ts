/** Docker's rules for reading query parameters, with 400s that name the parameter. */
import { InvalidArgumentError } from '../lib/errors.js';

/** One query value as Go's r.Form.Get reads it: the first when the parameter is repeated. */
export function singleParam(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length > 0 ? String(value[0]) : undefined;
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : String(value);
}

/** moby's httputils.BoolValue: anything but "", "0", "no", "false", "none" is true. */
export function boolParam(value: unknown): boolean {
  const text = (singleParam(value) ?? '').trim().toLowerCase();
  return !(text === '' || text === '0' || text === 'no' || text === 'false' || text === 'none');
}

export function intParam(name: string, raw: unknown, fallback: number): number {
  const value = singleParam(raw);
  if (value === undefined || value === '') return fallback;
  if (!/^-?\d+$/.test(value.trim())) {
    throw new InvalidArgumentError(`invalid value for query parameter "${name}": "${value}" is not an integer`);
  }
  return Number.parseInt(value, 10);
}

/**
 * A Unix timestamp as the docker CLI sends it ("1700000000" or "1700000000.000000123"), in
 * nanoseconds; undefined when absent.
 */
export function timestampParam(name: string, raw: unknown): bigint | undefined {
  const value = singleParam(raw);
  if (value === undefined || value === '') return undefined;
  const match = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(value.trim());
  if (!match) {
    throw new InvalidArgumentError(`invalid value for query parameter "${name}": "${value}" is not a Unix timestamp (seconds[.nanoseconds])`);
  }
  const seconds = BigInt(match[1]!);
  const nanos = BigInt((match[2] ?? '').padEnd(9, '0'));
  return seconds * 1_000_000_000n + (seconds < 0n ? -nanos : nanos);
}

/** Docker filters: `{"key":{"value":true}}`, or the legacy `{"key":["value"]}`. */
export type Filters = Map<string, string[]>;

export function filtersParam(raw: unknown, accepted: readonly string[]): Filters {
  const value = singleParam(raw);
  const filters: Filters = new Map();
  if (value === undefined || value.trim() === '') return filters;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`invalid filter: filters must be a JSON object, got ${JSON.stringify(value)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError('invalid filter: filters must be a JSON object of sets');
  }
  for (const [key, set] of Object.entries(parsed as Record<string, unknown>)) {
    if (!accepted.includes(key)) throw new InvalidArgumentError(`invalid filter '${key}'`);
    let values: string[];
    if (Array.isArray(set) && set.every((v) => typeof v === 'string')) values = set as string[];
    else if (set !== null && typeof set === 'object' && Object.values(set).every((v) => typeof v === 'boolean')) values = Object.keys(set);
    else throw new InvalidArgumentError(`invalid filter '${key}': values must be a set of strings`);
    filters.set(key, values);
  }
  return filters;
}
