/**
 * JSON request bodies checked against the kinds the Engine API spec gives their fields
 * (types/body-shapes.json, generated from the spec): what moby's Go decoder refuses with a 400
 * ("json: cannot unmarshal string into Go struct field ... of type int64") is refused here too,
 * before a wrong-typed value can reach a service. null is accepted anywhere, as Go reads it as zero.
 */
import { InvalidArgumentError } from '../lib/errors.js';
import shapes from './types/body-shapes.json' with { type: 'json' };

export interface BodyShape {
  /** JSON kind: object, array, string, integer, number, boolean, or any. */
  t: string;
  p?: Record<string, BodyShape>;
  /** The shape of every value of a map. */
  v?: BodyShape;
  i?: BodyShape;
  /** An unsigned integer. */
  u?: number;
}

const BY_ROUTE = shapes as Record<string, BodyShape>;
const INT64 = 2 ** 63;

/** The body shape of `method` and a route pattern written as berth's router has it (`:id`). */
export function bodyShapeFor(method: string, pattern: string): BodyShape | undefined {
  return BY_ROUTE[`${method} ${pattern.replace(/:([A-Za-z]+)/g, '{$1}')}`];
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function fits(shape: BodyShape, value: unknown): boolean {
  switch (shape.t) {
    case 'object':
      return typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value) && Math.abs(value as number) < INT64 && !(shape.u && (value as number) < 0);
    case 'number':
      return typeof value === 'number';
    case 'string':
    case 'boolean':
      return typeof value === shape.t;
    default:
      return true;
  }
}

/** Throws InvalidArgument naming the first field whose JSON kind is not the spec's. */
export function checkBodyShape(shape: BodyShape, value: unknown, field = ''): void {
  if (value === null || value === undefined || shape.t === 'any') return;
  if (!fits(shape, value)) {
    const wanted = shape.u ? 'unsigned integer' : shape.t;
    throw new InvalidArgumentError(`json: cannot unmarshal ${kindOf(value)} into ${field ? `field ${field}` : 'the request body'} of type ${wanted}`);
  }
  if (Array.isArray(value)) {
    if (shape.i) value.forEach((item, index) => checkBodyShape(shape.i!, item, `${field}[${index}]`));
    return;
  }
  if (typeof value !== 'object') return;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const known = shape.p?.[key] ?? shape.v;
    if (known) checkBodyShape(known, item, field ? `${field}.${key}` : key);
  }
}
