/** The spec-driven body check accepts every JSON body the real docker CLI 28 sends. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyShapeFor, checkBodyShape } from './body-shape.js';
import { loadCapturedCommands } from '../../test/helpers/captured-requests.js';

/** The router's pattern of a captured path (IDs in place of :id). */
function patternOf(path: string): string {
  return path
    .replace(/^\/v1\.\d+/, '')
    .replace(/^\/(containers|networks|exec)\/[^/]+\/(update|exec|connect|disconnect|start)$/, '/$1/:id/$2');
}

test('every JSON body the docker CLI sent in the capture passes the check', () => {
  let checked = 0;
  for (const command of loadCapturedCommands()) {
    for (const request of command.requests) {
      const shape = request.body === undefined ? undefined : bodyShapeFor(request.method, patternOf(request.path));
      if (!shape) continue;
      assert.doesNotThrow(() => checkBodyShape(shape, request.body), `${command.command}: ${request.method} ${request.path}`);
      checked++;
    }
  }
  assert.ok(checked >= 15, `checked ${checked} bodies`);
});

test('Go-typed leniency: a signed integer such as MemorySwappiness -1 (the CLI default) passes', () => {
  const shape = bodyShapeFor('POST', '/containers/create')!;
  assert.doesNotThrow(() => checkBodyShape(shape, { Image: 'x', HostConfig: { MemorySwappiness: -1, Memory: 0 } }));
  assert.throws(() => checkBodyShape(shape, { Image: 'x', HostConfig: { MemorySwappiness: '-1' } }), /MemorySwappiness of type integer/);
});
