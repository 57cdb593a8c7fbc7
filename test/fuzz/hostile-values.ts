/**
 * fast-check arbitraries for hostile API input: path segments, query values and JSON bodies,
 * shaped by the Engine API spec's types (test/fuzz/engine-routes.json) so that most requests are
 * nearly right and get past the first check.
 */
import fc from 'fast-check';

export interface SchemaShape {
  type: string;
  properties?: Record<string, SchemaShape>;
  items?: SchemaShape;
}

/** 10,000 levels of nesting, as arrays and as objects. */
export const DEEP_ARRAY = '['.repeat(10_000) + ']'.repeat(10_000);
export const DEEP_OBJECT = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);

const SPECIAL_SEGMENTS = [
  '', '.', '..', '../..', '..%2f..%2fetc', '%2e%2e', '%2e%2e%2f', 'a%2Fb', '%00', 'a%00b', '%', '%zz', '%c0%ae%c0%ae',
  '%ff%fe', 'a b', 'sha256:', `sha256:${'0'.repeat(64)}`, `sha256:${'z'.repeat(64)}`, '@sha256:zz', 'name:tag', 'a:b:c',
  'localhost:5000/a/b', 'UPPER', '-leading-dash', '_', 'x'.repeat(300), 'é'.repeat(200), '\u{1F600}', 'json', 'prune', 'create',
];

/** A raw path segment (already escaped as it goes on the wire; some escapes are invalid on purpose). */
export function pathSegment(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 64 }) },
    { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_SEGMENTS.map((s) => (s.includes('%') ? s : encodeURI(s)))) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom('a', '..', '.', 'b:c', ''), { minLength: 2, maxLength: 5 }).map((parts) => parts.join('/')) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 12_000 }).map((n) => 'n'.repeat(n)) },
    ...(known.length > 0 ? [{ weight: 4, arbitrary: fc.constantFrom(...known).map(encodeURIComponent) }] : []),
  );
}

const FILTER_VALUES = [
  'not json', '{', '[]', '[1,2]', 'null', '"x"', '42', '{"label":"x"}', '{"label":[1]}', '{"label":{"x":"yes"}}', '{"unknown":{"x":true}}',
  '{"dangling":{"maybe":true}}', '{"dangling":["maybe"]}', '{"until":["not a time"]}', '{"until":{"-1":true}}', '{"status":{"exploded":true}}',
  '{"health":["sick"]}', '{"type":{"weird":true}}', '{"reference":{"%":true}}', '{"before":{"nope":true}}', '{"since":{"":true}}', '{"label":{"":true}}',
  '{"label!":{"a=b":true}}', '{"all":{"maybe":true}}', '{"name":{"\u0000":true}}', DEEP_OBJECT.slice(0, 2_000),
];

/** A query value for a parameter of `type`: wrong-typed, huge, negative, empty, or plausible. */
export function queryValue(type: string, name: string): fc.Arbitrary<string | string[]> {
  const generic = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', 'maybe', '-1', '1e999', '99999999999999999999999', 'NaN', '0x10', '1.5', ' 1', '\u0000', 'x'.repeat(4_000)));
  const typed = (() => {
    if (name === 'filters') return fc.constantFrom(...FILTER_VALUES);
    if (type === 'boolean') return fc.constantFrom('maybe', '1', '0', 'true', 'false', 'yes', 'TRUE', '', 'none', '2');
    if (type === 'integer' || type === 'number') {
      return fc.oneof(fc.integer().map(String), fc.constantFrom('-1', '-9999999999', '9007199254740993', '1e308', '99999999999999999999', 'all', '1.5', '', '+5'));
    }
    return fc.string({ maxLength: 60 });
  })();
  const one = fc.oneof({ weight: 4, arbitrary: typed }, { weight: 2, arbitrary: generic });
  return fc.oneof({ weight: 6, arbitrary: one }, { weight: 1, arbitrary: fc.array(one, { minLength: 2, maxLength: 3 }) });
}

/** A JSON value of the wrong type for `shape`, or an extreme value of the right one. */
function wrongValue(shape: SchemaShape): fc.Arbitrary<unknown> {
  const extremes: unknown[] = [null, '', 'a string', [], [1, 'two', null], {}, { nested: { deeper: [] } }, true, 0, -1, -9_223_372_036_854_775_808, 1e308, 2 ** 64, 1.5, 'x'.repeat(5_000)];
  if (shape.type === 'integer' || shape.type === 'number') extremes.push(-1, -(2 ** 53), 2 ** 63, 1e21, '5', Number.MIN_VALUE);
  if (shape.type === 'array') extremes.push(['x'.repeat(1_000)], Array.from({ length: 2_000 }, (_, i) => i), [{}], [[]]);
  if (shape.type === 'object') extremes.push({ '': '' }, { k: 1 }, { k: null }, { k: [1] }, { '../../etc': 'x' });
  return fc.constantFrom(...extremes);
}

/**
 * A value that mostly fits `shape` (so validation goes deeper) with wrong-typed parts; with
 * `typedOnly`, every part has the spec's type and only the values are hostile (negative sizes,
 * huge numbers, paths), so they get past the type check to the services.
 */
export function shapedValue(shape: SchemaShape, depth = 0, typedOnly = false): fc.Arbitrary<unknown> {
  const right = ((): fc.Arbitrary<unknown> => {
    switch (shape.type) {
      case 'string':
        return fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', '..', '/', '/etc/passwd', '../../x', 'none', 'host', 'bridge', 'default', 'a=b', '80/tcp', '0.0.0.0:1:2'));
      case 'integer':
        return fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 53, -(2 ** 31), -(2 ** 62), 2 ** 62));
      case 'number':
        return fc.double();
      case 'boolean':
        return fc.boolean();
      case 'array':
        return fc.array(shape.items && depth < 4 ? shapedValue(shape.items, depth + 1, typedOnly) : fc.string({ maxLength: 20 }), { maxLength: 3 });
      case 'object':
        if (shape.properties && depth < 4) {
          const entries = Object.entries(shape.properties).map(([key, prop]) => [key, shapedValue(prop, depth + 1, typedOnly)] as const);
          return fc.record(Object.fromEntries(entries), { requiredKeys: [] });
        }
        return fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string({ maxLength: 12 }), fc.constant({}), fc.integer()), { maxKeys: 3 });
      default:
        return fc.jsonValue({ maxDepth: 3 });
    }
  })();
  return depth === 0 || typedOnly ? right : fc.oneof({ weight: 3, arbitrary: right }, { weight: 1, arbitrary: wrongValue(shape) });
}

export const SIXTEEN_MIB = 16 * 1024 * 1024;

/** A body that is not what the route wants: bad JSON, too big, too deep, or of the wrong kind. */
export function hostileBody(shape: SchemaShape | undefined, over: Buffer): fc.Arbitrary<{ kind: string; text: string | Buffer }> {
  const fieldNames = Object.keys(shape?.properties ?? {});
  const field = fieldNames.length > 0 ? fc.constantFrom(...fieldNames) : fc.constant('Labels');
  return fc.oneof(
    { weight: 160, arbitrary: (shape ? shapedValue(shape) : fc.jsonValue({ maxDepth: 3 })).map((v) => ({ kind: 'shaped', text: JSON.stringify(v) ?? 'null' })) },
    { weight: 80, arbitrary: (shape ? shapedValue(shape, 0, true) : fc.jsonValue({ maxDepth: 3 })).map((v) => ({ kind: 'typed', text: JSON.stringify(v) ?? 'null' })) },
    { weight: 60, arbitrary: fc.constantFrom('{', '{"Image":', '{"a":1,}', "{'a':1}", '[1,2', 'nul', '{"a":"\\x"}', '{"a":1}{"b":2}', '\u0000', '{"a":NaN}', '{"a":1e99999}', '\ufeff{}').map((text) => ({ kind: 'malformed', text })) },
    { weight: 40, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => ({ kind: 'whole-wrong-type', text: JSON.stringify(v) ?? 'null' })) },
    { weight: 20, arbitrary: fc.constantFrom(DEEP_ARRAY, DEEP_OBJECT).map((text) => ({ kind: 'deep', text })) },
    { weight: 20, arbitrary: fc.tuple(field, fc.constantFrom(DEEP_ARRAY, DEEP_OBJECT)).map(([name, deep]) => ({ kind: 'deep-field', text: `{${JSON.stringify(name)}:${deep}}` })) },
    { weight: 40, arbitrary: fc.tuple(field, fc.constantFrom<unknown>('str', 1e308, -1, [], null, true, { x: [[]] }, 2 ** 64)).map(([name, v]) => ({ kind: 'wrong-field', text: JSON.stringify({ [name]: v }) })) },
    { weight: 20, arbitrary: fc.uint8Array({ maxLength: 2_000 }).map((bytes) => ({ kind: 'binary', text: Buffer.from(bytes) })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'oversized', text: over }) },
  );
}
