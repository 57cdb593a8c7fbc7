#!/usr/bin/env node
// Regenerates src/api/types/body-shapes.json: for each JSON request body of the Engine API swagger,
// the JSON kinds its fields must have (what moby's Go decoder refuses with a 400 when they differ).
// Run after scripts/gen-api-types when the spec changes:
//   node src/api/types/gen-body-shapes.mjs [../shared/reference/docker-engine-api.yaml]
// Shape: { t: kind, p?: {field: shape}, v?: shape of map values, i?: shape of items, u?: 1 if unsigned }
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEngineOpenApi, repoRoot as repo } from '../../../scripts/lib/engine-openapi.mjs';

const openapi = loadEngineOpenApi(process.argv[2]);

// Go types that take more than the spec says: strslice.StrSlice takes a string or a list.
const STRING_OR_LIST = new Set(['Cmd', 'Entrypoint', 'Shell']);

function shapeOf(schema, seen, name) {
  let s = schema ?? {};
  const refs = new Set(seen);
  while (s.$ref) {
    if (refs.has(s.$ref)) return { t: 'any' };
    refs.add(s.$ref);
    s = openapi.components.schemas[s.$ref.split('/').pop()] ?? {};
  }
  if (name && STRING_OR_LIST.has(name)) return { t: 'any' };
  if (s.allOf) {
    const p = {};
    for (const part of s.allOf) Object.assign(p, shapeOf(part, refs).p ?? {});
    return { t: 'object', p };
  }
  const t = s.type ?? (s.properties ? 'object' : 'any');
  const out = { t };
  if (t === 'integer' && typeof s.format === 'string' && s.format.startsWith('uint')) out.u = 1;
  if (t === 'object' && s.properties) {
    out.p = {};
    for (const [field, prop] of Object.entries(s.properties)) out.p[field] = shapeOf(prop, refs, field);
  }
  if (t === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') {
    const values = shapeOf(s.additionalProperties, refs);
    if (values.t !== 'any') out.v = values;
  }
  if (t === 'array' && s.items) {
    const items = shapeOf(s.items, refs);
    if (items.t !== 'any') out.i = items;
  }
  return out;
}

// Swarm, plugin and cluster bodies: berth serves none of these routes.
const UNSERVED = /^\/(swarm|services|secrets|configs|nodes|plugins)\b|^\/volumes\/\{name\}$/;
const shapes = {};
for (const [path, item] of Object.entries(openapi.paths)) {
  if (UNSERVED.test(path)) continue;
  for (const [method, op] of Object.entries(item)) {
    const media = op?.requestBody?.content?.['application/json'];
    if (!media) continue;
    shapes[`${method.toUpperCase()} ${path}`] = shapeOf(media.schema, new Set());
  }
}
const out = join(repo, 'src', 'api', 'types', 'body-shapes.json');
writeFileSync(out, JSON.stringify(shapes) + '\n');
console.log(`wrote ${out}: ${Object.keys(shapes).length} bodies`);
