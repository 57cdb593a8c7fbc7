/** `-f key=value` flags as the API's filters JSON: {"key":{"value":true}}. */
import { CliError } from './cli-errors.js';

export function filtersToJson(filterFlags: readonly string[]): string | undefined {
  if (filterFlags.length === 0) return undefined;
  const filters: Record<string, Record<string, boolean>> = {};
  for (const flag of filterFlags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new CliError(`bad format of filter (expected name=value)`, 125);
    const key = flag.slice(0, eq).trim().toLowerCase();
    (filters[key] ??= {})[flag.slice(eq + 1)] = true;
  }
  return JSON.stringify(filters);
}
