import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoTemplate, TemplateError } from './go-template.js';
import { formatItems } from './formatter.js';

const run = (source: string, data: unknown) => new GoTemplate(source).execute(data);

const container = {
  ID: 'abc123',
  Names: ['/web', '/alias'],
  State: { Status: 'running', Running: true, ExitCode: 0 },
  Labels: { tier: 'front', app: 'shop' },
  Ports: [],
};

test('fields and nested fields', () => {
  assert.equal(run('{{.ID}} {{.State.Status}}', container), 'abc123 running');
});

test('a missing map key prints <no value>, as Go does', () => {
  assert.equal(run('{{.Nope}}', container), '<no value>');
});

test('json of the whole value and of a field', () => {
  assert.equal(run('{{json .Labels}}', container), '{"tier":"front","app":"shop"}');
  assert.deepEqual(JSON.parse(run('{{json .}}', container)), container);
});

test('join, upper, lower and pipelines', () => {
  assert.equal(run('{{join .Names ","}}', container), '/web,/alias');
  assert.equal(run('{{upper .State.Status}}', container), 'RUNNING');
  assert.equal(run('{{.State.Status | upper | lower}}', container), 'running');
});

test('index into maps and lists', () => {
  assert.equal(run('{{index .Labels "tier"}}', container), 'front');
  assert.equal(run('{{index .Names 1}}', container), '/alias');
});

test('printf with width and verbs', () => {
  assert.equal(run('{{printf "%-6s|%3d|%q" .ID .State.ExitCode .State.Status}}', container), 'abc123|  0|"running"');
});

test('range over a map with key and value variables, sorted by key as Go does', () => {
  assert.equal(run('{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}', container), 'app=shop;tier=front;');
  assert.equal(run('{{range .Names}}[{{.}}]{{end}}', container), '[/web][/alias]');
  assert.equal(run('{{range .Ports}}x{{else}}none{{end}}', container), 'none');
});

test('if/else if/else and comparisons', () => {
  const t = '{{if eq .State.Status "exited"}}E{{else if .State.Running}}R{{else}}?{{end}}';
  assert.equal(run(t, container), 'R');
  assert.equal(run(t, { State: { Status: 'exited' } }), 'E');
  assert.equal(run('{{if not .Ports}}empty{{end}}', container), 'empty');
});

test('with narrows dot; $ is the root', () => {
  assert.equal(run('{{with .State}}{{.Status}} of {{$.ID}}{{end}}', container), 'running of abc123');
});

test('trim markers remove surrounding whitespace', () => {
  assert.equal(run('a  {{- .ID -}}  b', container), 'aabc123b');
});

test('errors name the problem', () => {
  assert.throws(() => run('{{nosuch .ID}}', container), (err: unknown) => err instanceof TemplateError && /function "nosuch" not defined/.test(err.message));
  assert.throws(() => new GoTemplate('{{if .ID}}open'), /unexpected EOF/);
  assert.throws(() => new GoTemplate('{{.ID'), /unclosed action/);
});

test('table format aligns columns under headers', () => {
  const out = formatItems(
    [
      { ID: 'a1', Image: 'busybox' },
      { ID: 'b22222222222', Image: 'nginx' },
    ],
    { format: 'table {{.ID}}\t{{.Image}}', defaultTable: '', headers: { ID: 'CONTAINER ID' } },
  );
  assert.equal(out, 'CONTAINER ID   IMAGE\na1             busybox\nb22222222222   nginx\n');
});

test('plain template prints one line per item; json prints one object per line', () => {
  const items = [{ ID: 'a' }, { ID: 'b' }];
  assert.equal(formatItems(items, { format: '{{.ID}}', defaultTable: '', headers: {} }), 'a\nb\n');
  assert.equal(formatItems(items, { format: 'json', defaultTable: '', headers: {} }), '{"ID":"a"}\n{"ID":"b"}\n');
});
