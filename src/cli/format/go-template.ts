/**
 * The subset of Go's text/template that docker's --format users write: fields (`{{.Name}}`,
 * `{{.State.Status}}`, `{{$v.X}}`), pipelines (`{{.Names | upper}}`), `if`/`else`/`with`/`range`
 * (with `$i, $v :=`), trim markers (`{{-`, `-}}`), comments, and docker's functions
 * (json, join, split, upper, lower, title, pad, truncate) plus Go's (index, printf, print, println,
 * len, eq, ne, lt, le, gt, ge, and, or, not).
 */
import { InvalidArgumentError } from '../../lib/errors.js';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if'; pipe: Pipeline; then: Node[]; otherwise: Node[] }
  | { kind: 'with'; pipe: Pipeline; then: Node[]; otherwise: Node[] }
  | { kind: 'range'; pipe: Pipeline; keyVar?: string; valueVar?: string; body: Node[]; otherwise: Node[] };

interface Pipeline {
  declare?: string;
  commands: Operand[][];
}

type Operand =
  | { kind: 'field'; base: 'dot' | string; path: string[] }
  | { kind: 'literal'; value: unknown }
  | { kind: 'ident'; name: string }
  | { kind: 'sub'; pipe: Pipeline; path: string[] };

export class TemplateError extends InvalidArgumentError {
  constructor(message: string) {
    super(`template: ${message}`, { code: 'BERTH_TEMPLATE' });
  }
}

type Token = { t: 'field' | 'var' | 'ident' | 'string' | 'number' | 'punct'; v: string };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i += 1; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new TemplateError('unterminated quoted string');
      tokens.push({ t: 'string', v: JSON.parse(src.slice(i, j + 1)) as string });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j === -1) throw new TemplateError('unterminated raw quoted string');
      tokens.push({ t: 'string', v: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === ':' && src[i + 1] === '=') { tokens.push({ t: 'punct', v: ':=' }); i += 2; continue; }
    if ('|(),='.includes(c)) { tokens.push({ t: 'punct', v: c }); i += 1; continue; }
    const m = /^(\.[A-Za-z0-9_.]*|\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*|-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*)/.exec(src.slice(i));
    if (!m) throw new TemplateError(`unexpected "${c}" in command`);
    const word = m[0];
    if (word.startsWith('.')) tokens.push({ t: 'field', v: word });
    else if (word.startsWith('$')) tokens.push({ t: 'var', v: word });
    else if (/^-?\d/.test(word)) tokens.push({ t: 'number', v: word });
    else tokens.push({ t: 'ident', v: word });
    i += word.length;
  }
  return tokens;
}

function parsePipeline(tokens: Token[], pos: { i: number }, stopAtParen: boolean): Pipeline {
  const pipe: Pipeline = { commands: [] };
  const t0 = tokens[pos.i];
  const t1 = tokens[pos.i + 1];
  if (t0?.t === 'var' && t1?.t === 'punct' && (t1.v === ':=' || t1.v === '=')) {
    pipe.declare = t0.v;
    pos.i += 2;
  }
  let command: Operand[] = [];
  while (pos.i < tokens.length) {
    const tok = tokens[pos.i]!;
    if (tok.t === 'punct' && tok.v === ')') {
      if (!stopAtParen) throw new TemplateError('unexpected right paren');
      break;
    }
    pos.i += 1;
    if (tok.t === 'punct' && tok.v === '|') {
      if (command.length === 0) throw new TemplateError('missing command before "|"');
      pipe.commands.push(command);
      command = [];
      continue;
    }
    if (tok.t === 'punct' && tok.v === '(') {
      const inner = parsePipeline(tokens, pos, true);
      if (tokens[pos.i]?.v !== ')') throw new TemplateError('unclosed left paren');
      pos.i += 1;
      let path: string[] = [];
      const next = tokens[pos.i];
      if (next?.t === 'field' && next.v !== '.') {
        path = next.v.slice(1).split('.');
        pos.i += 1;
      }
      command.push({ kind: 'sub', pipe: inner, path });
      continue;
    }
    command.push(operandOf(tok));
  }
  if (command.length === 0) throw new TemplateError('missing value for command');
  pipe.commands.push(command);
  return pipe;
}

function operandOf(tok: Token): Operand {
  switch (tok.t) {
    case 'field':
      return { kind: 'field', base: 'dot', path: tok.v === '.' ? [] : tok.v.slice(1).split('.') };
    case 'var': {
      const [name, ...path] = tok.v.split('.');
      return { kind: 'field', base: name!, path };
    }
    case 'string':
      return { kind: 'literal', value: tok.v };
    case 'number':
      return { kind: 'literal', value: Number(tok.v) };
    case 'ident':
      if (tok.v === 'true' || tok.v === 'false') return { kind: 'literal', value: tok.v === 'true' };
      if (tok.v === 'nil') return { kind: 'literal', value: null };
      return { kind: 'ident', name: tok.v };
    default:
      throw new TemplateError(`unexpected "${tok.v}" in command`);
  }
}

/** Splits the source into text and actions, applying trim markers. */
function lex(source: string): ({ text: string } | { action: string })[] {
  const parts: ({ text: string } | { action: string })[] = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    if (open === -1) { parts.push({ text: source.slice(i) }); break; }
    let text = source.slice(i, open);
    let start = open + 2;
    if (source.startsWith('- ', start) || (source[start] === '-' && /\s/.test(source[start + 1] ?? ''))) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) parts.push({ text });
    const close = source.indexOf('}}', start);
    if (close === -1) throw new TemplateError('unclosed action');
    let body = source.slice(start, close);
    i = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const m = /^\s*/.exec(source.slice(i));
      i += m ? m[0].length : 0;
    }
    parts.push({ action: body.trim() });
  }
  return parts;
}

/** A parsed template, ready to execute against any number of values. */
export class GoTemplate {
  private readonly root: Node[];

  constructor(source: string) {
    const parts = lex(source);
    const pos = { i: 0 };
    const { nodes, terminator } = parseList(parts, pos);
    if (terminator) throw new TemplateError(`unexpected {{${terminator}}}`);
    this.root = nodes;
  }

  execute(data: unknown): string {
    const out: string[] = [];
    execList(this.root, { dot: data, vars: new Map([['$', data]]) }, out);
    return out.join('');
  }
}

function parseList(parts: ReturnType<typeof lex>, pos: { i: number }): { nodes: Node[]; terminator?: string } {
  const nodes: Node[] = [];
  while (pos.i < parts.length) {
    const part = parts[pos.i]!;
    pos.i += 1;
    if ('text' in part) { nodes.push({ kind: 'text', text: part.text }); continue; }
    const action = part.action;
    if (action.startsWith('/*')) continue;
    const word = /^[a-z]+/.exec(action)?.[0] ?? '';
    if (word === 'end' || action === 'else' || (word === 'else' && /^else\s+if\b/.test(action))) {
      return { nodes, terminator: action };
    }
    if (word === 'if' || word === 'with' || word === 'range') {
      nodes.push(parseBlock(word, action.slice(word.length), parts, pos));
      continue;
    }
    nodes.push({ kind: 'action', pipe: parsePipeline(tokenize(action), { i: 0 }, false) });
  }
  return { nodes };
}

function parseBlock(word: 'if' | 'with' | 'range', rest: string, parts: ReturnType<typeof lex>, pos: { i: number }): Node {
  let keyVar: string | undefined;
  let valueVar: string | undefined;
  if (word === 'range') {
    const m = /^\s*(\$\w*)\s*(?:,\s*(\$\w*)\s*)?:=(.*)$/s.exec(rest);
    if (m) {
      if (m[2]) { keyVar = m[1]; valueVar = m[2]; } else { valueVar = m[1]; }
      rest = m[3]!;
    }
  }
  const pipe = parsePipeline(tokenize(rest), { i: 0 }, false);
  const body = parseList(parts, pos);
  let otherwise: Node[] = [];
  if (body.terminator === undefined) throw new TemplateError(`unexpected EOF in ${word}`);
  if (body.terminator === 'else') {
    const tail = parseList(parts, pos);
    if (tail.terminator !== 'end') throw new TemplateError(`expected end; found ${tail.terminator ?? 'EOF'}`);
    otherwise = tail.nodes;
  } else if (body.terminator.startsWith('else')) {
    // `else if X` is an if nested in the else branch that shares this block's `end`.
    otherwise = [parseBlock('if', body.terminator.replace(/^else\s+if/, ''), parts, pos)];
  }
  if (word === 'range') return { kind: 'range', pipe, keyVar, valueVar, body: body.nodes, otherwise };
  return { kind: word, pipe, then: body.nodes, otherwise };
}

interface Scope {
  dot: unknown;
  vars: Map<string, unknown>;
}

function execList(nodes: Node[], scope: Scope, out: string[]): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out.push(node.text);
        break;
      case 'action': {
        const value = evalPipeline(node.pipe, scope);
        if (!node.pipe.declare) out.push(printValue(value));
        break;
      }
      case 'if': {
        const value = evalPipeline(node.pipe, scope);
        execList(truthy(value) ? node.then : node.otherwise, scope, out);
        break;
      }
      case 'with': {
        const value = evalPipeline(node.pipe, scope);
        if (truthy(value)) execList(node.then, { ...scope, dot: value }, out);
        else execList(node.otherwise, scope, out);
        break;
      }
      case 'range': {
        const value = evalPipeline(node.pipe, scope);
        const entries = rangeEntries(value);
        if (entries.length === 0) { execList(node.otherwise, scope, out); break; }
        for (const [key, item] of entries) {
          const vars = new Map(scope.vars);
          if (node.keyVar) vars.set(node.keyVar, key);
          if (node.valueVar) vars.set(node.valueVar, item);
          execList(node.body, { dot: item, vars }, out);
        }
        break;
      }
    }
  }
}

function rangeEntries(value: unknown): [unknown, unknown][] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map((v, i) => [i, v]);
  if (typeof value === 'number') return Array.from({ length: value }, (_, i) => [i, i]);
  if (typeof value === 'object') return Object.keys(value).sort().map((k) => [k, (value as Record<string, unknown>)[k]]);
  throw new TemplateError(`range can't iterate over ${printValue(value)}`);
}

function evalPipeline(pipe: Pipeline, scope: Scope): unknown {
  let value: unknown;
  let first = true;
  for (const command of pipe.commands) {
    value = evalCommand(command, scope, first ? undefined : { value });
    first = false;
  }
  if (pipe.declare) scope.vars.set(pipe.declare, value);
  return value;
}

function evalCommand(command: Operand[], scope: Scope, piped?: { value: unknown }): unknown {
  const head = command[0]!;
  if (head.kind === 'ident') {
    const fn = FUNCTIONS[head.name];
    if (!fn) throw new TemplateError(`function "${head.name}" not defined`);
    const args = command.slice(1).map((op) => evalOperand(op, scope));
    if (piped) args.push(piped.value);
    return fn(...args);
  }
  if (command.length > 1 || piped) throw new TemplateError(`can't give argument to non-function ${describe(head)}`);
  return evalOperand(head, scope);
}

function describe(op: Operand): string {
  if (op.kind === 'field') return (op.base === 'dot' ? '' : op.base) + (op.path.length ? '.' + op.path.join('.') : op.base === 'dot' ? '.' : '');
  if (op.kind === 'literal') return JSON.stringify(op.value);
  return op.kind;
}

function evalOperand(op: Operand, scope: Scope): unknown {
  switch (op.kind) {
    case 'literal':
      return op.value;
    case 'ident': {
      const fn = FUNCTIONS[op.name];
      if (!fn) throw new TemplateError(`function "${op.name}" not defined`);
      return fn();
    }
    case 'sub':
      return walk(evalPipeline(op.pipe, scope), op.path);
    case 'field': {
      let base: unknown;
      if (op.base === 'dot') base = scope.dot;
      else if (scope.vars.has(op.base)) base = scope.vars.get(op.base);
      else throw new TemplateError(`undefined variable "${op.base}"`);
      return walk(base, op.path);
    }
  }
}

function walk(value: unknown, path: string[]): unknown {
  let current = value;
  for (const name of path) {
    if (current === null || current === undefined) return undefined;
    if (typeof current !== 'object') throw new TemplateError(`can't evaluate field ${name} in type ${typeof current}`);
    current = (current as Record<string, unknown>)[name];
  }
  return current;
}

function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Formats a value as Go's fmt %v does for the shapes JSON can hold. */
export function printValue(value: unknown): string {
  if (value === undefined) return '<no value>';
  if (value === null) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map(printValue).join(' ')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `map[${keys.map((k) => `${k}:${printValue((value as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(value);
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new TemplateError('incompatible types for comparison');
}

/** Go's fmt verbs that format strings use: %s %v %d %q %t %%, with width and `-`. */
function sprintf(format: string, ...args: unknown[]): string {
  let n = 0;
  return format.replace(/%(-?)(\d*)([svdqtx%])/g, (_m, left: string, width: string, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[n++];
    let text: string;
    switch (verb) {
      case 'q': text = JSON.stringify(printValue(arg)); break;
      case 'd': text = typeof arg === 'number' ? String(Math.trunc(arg)) : `%!d(${printValue(arg)})`; break;
      case 'x': text = typeof arg === 'number' ? arg.toString(16) : Buffer.from(printValue(arg)).toString('hex'); break;
      default: text = printValue(arg);
    }
    const w = width ? Number(width) : 0;
    return left ? text.padEnd(w) : text.padStart(w);
  });
}

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v ?? null),
  join: (list, sep) => (Array.isArray(list) ? list.map(printValue).join(String(sep)) : printValue(list)),
  split: (s, sep) => String(s).split(String(sep)),
  upper: (s) => printValue(s).toUpperCase(),
  lower: (s) => printValue(s).toLowerCase(),
  title: (s) => printValue(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  pad: (s, left, right) => ' '.repeat(Number(left)) + printValue(s) + ' '.repeat(Number(right)),
  truncate: (s, n) => printValue(s).slice(0, Number(n)),
  len: (v) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new TemplateError(`len of ${printValue(v)}`);
  },
  index: (v, ...keys) => {
    let current = v;
    for (const key of keys) {
      if (current === null || current === undefined) return undefined;
      if (Array.isArray(current)) {
        const i = Number(key);
        if (!Number.isInteger(i) || i < 0 || i >= current.length) throw new TemplateError(`error calling index: index out of range: ${String(key)}`);
        current = current[i];
      } else if (typeof current === 'object') {
        current = (current as Record<string, unknown>)[String(key)];
      } else {
        throw new TemplateError(`error calling index: can't index item of type ${typeof current}`);
      }
    }
    return current;
  },
  printf: (format, ...args) => sprintf(String(format), ...args),
  print: (...args) => args.map(printValue).join(''),
  println: (...args) => args.map(printValue).join(' ') + '\n',
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  not: (a) => !truthy(a),
};
