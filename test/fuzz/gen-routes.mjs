#!/usr/bin/env node
// Regenerates test/fuzz/engine-routes.json, the fuzzer's compact view of the Docker Engine API
// swagger: every method + path, its path and query parameters with their types, and the shape of
// its body (JSON schemas cut to a few levels). Committed, so the fuzzer needs no YAML parser.
// Usage: node test/fuzz/gen-routes.mjs [../shared/reference/docker-engine-api.yaml]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEngineOpenApi, repoRoot as repo } from '../../scripts/lib/engine-openapi.mjs';

const openapi = loadEngineOpenApi(process.argv[2]);

const MAX_DEPTH = 3;

function resolve(schema) {
  let current = schema;
  while (current && current.$ref) current = openapi.components.schemas[current.$ref.split('/').pop()];
  return current ?? {};
}

/** A schema cut to `depth` levels: { type, properties?, items? }; allOf is merged. */
function compact(schema, depth) {
  const s = resolve(schema);
  if (s.allOf) {
    const merged = { type: 'object', properties: {} };
    for (const part of s.allOf) Object.assign(merged.properties, compact(part, depth).properties ?? {});
    return merged;
  }
  const type = s.type ?? (s.properties ? 'object' : 'any');
  const out = { type };
  if (type === 'object' && s.properties && depth > 0) {
    out.properties = {};
    for (const [name, prop] of Object.entries(s.properties)) out.properties[name] = compact(prop, depth - 1);
  }
  if (type === 'array' && s.items && depth > 0) out.items = compact(s.items, depth - 1);
  return out;
}

const routes = [];
for (const [path, item] of Object.entries(openapi.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (!['get', 'post', 'put', 'delete', 'head'].includes(method)) continue;
    const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(resolveParam);
    const route = {
      method: method.toUpperCase(),
      path,
      operationId: op.operationId,
      pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
      query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, type: resolve(p.schema).type ?? 'string' })),
    };
    const content = op.requestBody?.content;
    if (content) {
      const [contentType, media] = Object.entries(content)[0];
      route.body = { contentType, schema: compact(media.schema ?? {}, MAX_DEPTH) };
    }
    routes.push(route);
  }
}

function resolveParam(param) {
  return param.$ref ? openapi.components.parameters[param.$ref.split('/').pop()] : param;
}

const out = join(repo, 'test', 'fuzz', 'engine-routes.json');
// One route a line: a spec update shows up as a readable diff.
writeFileSync(out, `{"api":${JSON.stringify(openapi.info.version)},"routes":[\n${routes.map((r) => JSON.stringify(r)).join(',\n')}\n]}\n`);
console.log(`wrote ${out}: ${routes.length} routes of API ${openapi.info.version}`);
