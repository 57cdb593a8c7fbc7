/**
 * Path patterns as the Engine API is written: static segments, `:name` (one segment) and a final
 * `*` (the rest of the path, slashes included, for image names such as localhost:5000/app/json).
 * A static segment wins over `:name`, which wins over `*`, whatever the order of registration, so
 * /images/json is never taken for an image called "json".
 */
import { InvalidArgumentError } from '../lib/errors.js';

interface RouteNode<T> {
  statics: Map<string, RouteNode<T>>;
  param?: { name: string; node: RouteNode<T> };
  /** Values by method for `*` at this point of the path. */
  rest?: Map<string, T>;
  /** Values by method for a path that ends here. */
  values: Map<string, T>;
}

export interface RouteMatch<T> {
  value: T;
  /** Decoded parameters; `*` holds the rest of the path. */
  params: Record<string, string>;
}

const newNode = <T>(): RouteNode<T> => ({ statics: new Map(), values: new Map() });

export class RouteTable<T> {
  private readonly root: RouteNode<T> = newNode();

  add(method: string, path: string, value: T): void {
    const segments = path.split('/').slice(1);
    let node = this.root;
    for (const [index, segment] of segments.entries()) {
      if (segment === '*') {
        if (index !== segments.length - 1) throw new Error(`route ${path}: * must be the last segment`);
        node.rest ??= new Map();
        if (node.rest.has(method)) throw new Error(`route ${method} ${path} is registered twice`);
        node.rest.set(method, value);
        return;
      }
      if (segment.startsWith(':')) {
        const name = segment.slice(1);
        if (node.param && node.param.name !== name) throw new Error(`route ${path}: :${name} clashes with :${node.param.name}`);
        node.param ??= { name, node: newNode() };
        node = node.param.node;
        continue;
      }
      let next = node.statics.get(segment);
      if (!next) node.statics.set(segment, (next = newNode()));
      node = next;
    }
    if (node.values.has(method)) throw new Error(`route ${method} ${path} is registered twice`);
    node.values.set(method, value);
  }

  /** The route for `method` and `path` (no query string), or undefined. */
  find(method: string, path: string): RouteMatch<T> | undefined {
    const found = search(this.root, method, path.split('/').slice(1), 0, []);
    if (!found) return undefined;
    const params: Record<string, string> = {};
    for (const [name, raw] of found.params) params[name] = decodeSegment(raw);
    return { value: found.value, params };
  }
}

function search<T>(node: RouteNode<T>, method: string, segments: string[], index: number, params: [string, string][]): { value: T; params: [string, string][] } | undefined {
  if (index === segments.length) {
    const value = node.values.get(method);
    return value === undefined ? undefined : { value, params };
  }
  const segment = segments[index]!;
  const byName = node.statics.get(segment);
  if (byName) {
    const found = search(byName, method, segments, index + 1, params);
    if (found) return found;
  }
  if (node.param && segment !== '') {
    const found = search(node.param.node, method, segments, index + 1, [...params, [node.param.name, segment]]);
    if (found) return found;
  }
  const rest = node.rest?.get(method);
  return rest === undefined ? undefined : { value: rest, params: [...params, ['*', segments.slice(index).join('/')]] };
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidArgumentError(`invalid escape in request path: "${raw}"`);
  }
}
