/**
 * The Dockerfile shell lexer's word processing (BuildKit's shell.Lex): quotes, the escape
 * character, and variable expansion ($VAR, ${VAR}, ${VAR:-x}, ${VAR-x}, ${VAR:+x}, ${VAR+x},
 * ${VAR:?msg}). No command substitution, no globbing: that is what Docker does too.
 */
import { DockerfileError } from './dockerfile-error.js';

export type Lookup = (name: string) => string | undefined;

interface LexState {
  text: string;
  pos: number;
  escape: string;
  lookup: Lookup;
}

/** Expands one word (no splitting): quotes removed, variables substituted. */
export function expandWord(text: string, lookup: Lookup, escape = '\\'): string {
  const words = lex(text, lookup, escape, false);
  return words.join('');
}

/** Substitutes variables only (heredoc bodies): quotes stay as written, the escape character keeps "$" literal. */
export function expandVariables(text: string, lookup: Lookup, escape = '\\'): string {
  const state: LexState = { text, pos: 0, escape, lookup };
  let out = '';
  while (state.pos < text.length) {
    const c = text[state.pos]!;
    if (c === escape && text[state.pos + 1] === '$') {
      out += '$';
      state.pos += 2;
    } else if (c === '$') out += variable(state);
    else {
      out += c;
      state.pos++;
    }
  }
  return out;
}

/** Expands and splits into words at unquoted whitespace (COPY sources, EXPOSE, VOLUME, ...). */
export function expandWords(text: string, lookup: Lookup, escape = '\\'): string[] {
  return lex(text, lookup, escape, true);
}

function lex(text: string, lookup: Lookup, escape: string, split: boolean): string[] {
  const state: LexState = { text, pos: 0, escape, lookup };
  const words: string[] = [];
  let current = '';
  let inWord = false;
  while (state.pos < text.length) {
    const c = text[state.pos]!;
    if (split && /\s/.test(c)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      state.pos++;
      continue;
    }
    inWord = true;
    if (c === escape) {
      state.pos++;
      if (state.pos < text.length) current += text[state.pos++];
      else current += c;
    } else if (c === "'") {
      const end = text.indexOf("'", state.pos + 1);
      if (end === -1) throw new DockerfileError(`unexpected end of statement while looking for matching single-quote`);
      current += text.slice(state.pos + 1, end);
      state.pos = end + 1;
    } else if (c === '"') {
      state.pos++;
      current += doubleQuoted(state);
    } else if (c === '$') {
      current += variable(state);
    } else {
      current += c;
      state.pos++;
    }
  }
  if (inWord) words.push(current);
  return split ? words : [words.join('')];
}

function doubleQuoted(state: LexState): string {
  let out = '';
  while (state.pos < state.text.length) {
    const c = state.text[state.pos]!;
    if (c === '"') {
      state.pos++;
      return out;
    }
    if (c === state.escape) {
      const next = state.text[state.pos + 1];
      // Inside double quotes only these are escapable, as in a POSIX shell.
      if (next !== undefined && (next === '"' || next === '$' || next === state.escape)) {
        out += next;
        state.pos += 2;
        continue;
      }
      out += c;
      state.pos++;
      continue;
    }
    if (c === '$') {
      out += variable(state);
      continue;
    }
    out += c;
    state.pos++;
  }
  throw new DockerfileError('unexpected end of statement while looking for matching double-quote');
}

function variable(state: LexState): string {
  const text = state.text;
  state.pos++; // the '$'
  if (text[state.pos] === '{') {
    const close = matchingBrace(text, state.pos);
    if (close === -1) throw new DockerfileError(`missing '}' in '${text}'`);
    const body = text.slice(state.pos + 1, close);
    state.pos = close + 1;
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9])(?:(:?[-+?])([\s\S]*))?$/.exec(body);
    if (!m) throw new DockerfileError(`failed to process "${text}": unsupported modifier in \${${body}}`);
    const [, name, modifier, word = ''] = m;
    const value = state.lookup(name!);
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    const argument = () => expandWord(word, state.lookup, state.escape);
    switch (modifier) {
      case undefined: return value ?? '';
      case ':-': return nonEmpty ? value! : argument();
      case '-': return set ? value! : argument();
      case ':+': return nonEmpty ? argument() : '';
      case '+': return set ? argument() : '';
      case ':?': case '?': {
        const ok = modifier === ':?' ? nonEmpty : set;
        if (!ok) throw new DockerfileError(`${name}: ${word ? argument() : 'is not allowed to be unset'}`);
        return value!;
      }
      default: return value ?? '';
    }
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(state.pos));
  if (!m) return '$';
  state.pos += m[0].length;
  return state.lookup(m[0]) ?? '';
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** KEY=VALUE pairs (ENV, LABEL, ARG); the legacy `ENV KEY VALUE` form when `legacy` allows it. */
export function keyValuePairs(text: string, lookup: Lookup, escape: string, keyword: string): [string, string][] {
  const raw = splitRawWords(text, escape);
  if (raw.length === 0) throw new DockerfileError(`${keyword} requires at least one argument`);
  if (!raw[0]!.includes('=') && keyword !== 'ARG') {
    // ENV name value...: the rest of the line is the value.
    const name = raw[0]!;
    const rest = text.trimStart().slice(name.length).trim();
    if (!rest) throw new DockerfileError(`${keyword} names can not be blank`);
    return [[name, expandWord(rest, lookup, escape)]];
  }
  return raw.map((word) => {
    const eq = word.indexOf('=');
    if (eq === -1) {
      if (keyword === 'ARG') return [word, undefined as unknown as string];
      throw new DockerfileError(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    }
    const key = expandWord(word.slice(0, eq), lookup, escape);
    if (!key) throw new DockerfileError(`${keyword} names can not be blank`);
    return [key, expandWord(word.slice(eq + 1), lookup, escape)];
  });
}

/** Splits at unquoted whitespace without expanding (quotes and escapes kept for later). */
export function splitRawWords(text: string, escape: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === escape && i + 1 < text.length && quote !== "'") {
      current += c + text[++i];
      continue;
    }
    if (quote) {
      if (c === quote) quote = undefined;
      current += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      current += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (current) words.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  if (current) words.push(current);
  return words;
}
