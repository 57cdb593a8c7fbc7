import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable } from './route-table.js';

const table = new RouteTable<string>();
table.add('GET', '/images/json', 'list');
table.add('GET', '/images/*', 'image');
table.add('GET', '/containers/:id/json', 'inspect');
table.add('GET', '/containers/json', 'ps');
table.add('POST', '/containers/:id/start', 'start');

test('a static segment wins over a parameter and a parameter over the rest, whatever the order', () => {
  assert.equal(table.find('GET', '/images/json')?.value, 'list');
  assert.deepEqual(table.find('GET', '/images/localhost:5000/app/json'), { value: 'image', params: { '*': 'localhost:5000/app/json' } });
  assert.equal(table.find('GET', '/containers/json')?.value, 'ps');
  assert.deepEqual(table.find('GET', '/containers/web/json'), { value: 'inspect', params: { id: 'web' } });
});

test('parameters are percent-decoded; a bad escape is a 400, not a crash', () => {
  assert.deepEqual(table.find('POST', '/containers/a%20b/start')?.params, { id: 'a b' });
  assert.throws(() => table.find('POST', '/containers/%zz/start'), /invalid escape/);
});

test('the method counts, and so does every segment', () => {
  assert.equal(table.find('POST', '/containers/json'), undefined);
  assert.equal(table.find('GET', '/containers/web/json/extra'), undefined);
  assert.equal(table.find('GET', '/containers//json'), undefined);
  assert.equal(table.find('GET', '/nothing'), undefined);
});

test('a route registered twice is a programming error', () => {
  assert.throws(() => table.add('GET', '/images/json', 'again'), /registered twice/);
});
