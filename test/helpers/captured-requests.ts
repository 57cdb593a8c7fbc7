/**
 * The requests the real docker CLI 28.2.2 sent for 65 commands (test/fixtures, copied from
 * ../shared/reference), grouped by command, so tests can replay them against berthd.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CapturedRequest {
  method: string;
  path: string;
  query?: Record<string, string[]>;
  headers?: Record<string, string>;
  body?: unknown;
  kind: string;
}

export interface CapturedCommand {
  command: string;
  requests: CapturedRequest[];
  exitCode?: number;
}

export function loadCapturedCommands(): CapturedCommand[] {
  const text = readFileSync(fileURLToPath(new URL('../fixtures/docker-cli-28.2.2-requests.jsonl', import.meta.url)), 'utf8');
  const commands: CapturedCommand[] = [];
  let current: CapturedCommand | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    if (typeof record['command'] === 'string') {
      current = { command: record['command'], requests: [] };
      commands.push(current);
    } else if (typeof record['end'] === 'string' && current) {
      current.exitCode = record['exit_code'] as number;
    } else if ((record['kind'] === 'http' || record['kind'] === 'upgrade') && current) {
      current.requests.push(record as unknown as CapturedRequest);
    }
  }
  return commands;
}

/** The request line's path with its query string. */
export function requestTarget(request: CapturedRequest): string {
  const search = new URLSearchParams();
  for (const [key, values] of Object.entries(request.query ?? {})) for (const value of values) search.append(key, value);
  const query = search.toString();
  return query ? `${request.path}?${query}` : request.path;
}

/**
 * The shape of an answer as the docker CLI's Go types read it: 'string', 'integer', 'number',
 * 'boolean', 'any'; `[s]` an array whose every element is s; `{ key: s }` an object that has each
 * key (others allowed); orNull(s) for a Go slice or map that may come as null; optional(s) for
 * an omitempty field; nonEmpty([s]) for a list that must have something in it.
 */
export type Shape = 'string' | 'integer' | 'number' | 'boolean' | 'any' | Shape[] | { [key: string]: Shape } | Modifier;

class Modifier {
  constructor(
    readonly shape: Shape,
    readonly mayBeNull: boolean,
    readonly mayBeAbsent: boolean,
    readonly notEmpty: boolean,
  ) {}
}

export const orNull = (shape: Shape): Shape => new Modifier(shape, true, false, false);
export const optional = (shape: Shape): Shape => new Modifier(shape, true, true, false);
export const nonEmpty = (shape: Shape[]): Shape => new Modifier(shape, false, false, true);

/** Where `value` differs from `shape`, as "path: what" lines (empty when it fits). */
export function shapeProblems(value: unknown, shape: Shape, path = '$'): string[] {
  if (shape instanceof Modifier) {
    if (value === null && shape.mayBeNull) return [];
    if (shape.notEmpty && Array.isArray(value) && value.length === 0) return [`${path}: empty, expected at least one element`];
    return shapeProblems(value, shape.shape, path);
  }
  const seen = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  if (typeof shape === 'string') {
    if (shape === 'any') return value === undefined ? [`${path}: missing`] : [];
    if (shape === 'integer') return Number.isInteger(value) ? [] : [`${path}: ${seen} ${JSON.stringify(value)}, expected integer`];
    if (shape === 'number') return typeof value === 'number' ? [] : [`${path}: ${seen}, expected number`];
    return typeof value === shape ? [] : [`${path}: ${seen} ${JSON.stringify(value)?.slice(0, 60)}, expected ${shape}`];
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path}: ${seen}, expected array`];
    return value.flatMap((element, index) => shapeProblems(element, shape[0]!, `${path}[${index}]`));
  }
  if (seen !== 'object') return [`${path}: ${seen}, expected object`];
  const object = value as Record<string, unknown>;
  return Object.entries(shape).flatMap(([key, inner]) => {
    if (!(key in object)) return inner instanceof Modifier && inner.mayBeAbsent ? [] : [`${path}.${key}: missing`];
    return shapeProblems(object[key], inner, `${path}.${key}`);
  });
}
