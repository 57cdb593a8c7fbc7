import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResponse, parseQuery, reverseName, TYPE_A } from './dns-message.js';

/** A query as a resolver sends it: id, RD, one question. */
function query(name: string, type: number): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, ...labels, Buffer.from([0]), tail]);
}

test('a query\'s question is read, and an A answer points back at it', () => {
  const q = query('Web.appnet', TYPE_A);
  const question = parseQuery(q)!;
  assert.equal(question.name, 'web.appnet');
  assert.equal(question.type, TYPE_A);
  const response = buildResponse(q, question, [{ type: TYPE_A, data: '10.1.2.3', ttl: 600 }]);
  assert.equal(response.readUInt16BE(0), 0x1234);
  assert.equal(response.readUInt16BE(2) & 0x8000, 0x8000);
  assert.equal(response.readUInt16BE(6), 1);
  assert.deepEqual([...response.subarray(response.length - 4)], [10, 1, 2, 3]);
});

test('responses and truncated packets are not taken as queries', () => {
  const q = query('a.b', TYPE_A);
  q[2] = 0x81;
  assert.equal(parseQuery(q), undefined);
  assert.equal(parseQuery(Buffer.alloc(5)), undefined);
  assert.equal(reverseName('3.2.1.10.in-addr.arpa'), '10.1.2.3');
});
