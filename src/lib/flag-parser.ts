/**
 * Command-line flags with the grammar of spf13/pflag, which docker and dockerd use:
 * `--name=value`, `--name value`, `--bool`, `--bool=false`, combined short flags (`-it`, `-dp 80:80`),
 * a short flag with its value attached (`-p80:80`), repeated flags, `--` to end flags, and
 * optionally stopping at the first positional argument (`docker run IMAGE ls -la`).
 */
import { InvalidArgumentError } from './errors.js';

export type FlagType = 'bool' | 'string' | 'strings' | 'int';

export interface FlagSpec {
  type: FlagType;
  short?: string;
  usage: string;
  /** Shown in help; the value a flag has when not given (strings: []). */
  default?: boolean | string | number | readonly string[];
  /** Placeholder in help, e.g. "string" or "list". */
  valueName?: string;
  hidden?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<S extends FlagSpec> = S['type'] extends 'bool'
  ? boolean
  : S['type'] extends 'strings'
    ? string[]
    : S['type'] extends 'int'
      ? number
      : string;

export type FlagValues<S extends FlagSpecs> = { [K in keyof S]: ValueOf<S[K]> };

export interface ParsedFlags<S extends FlagSpecs> {
  flags: FlagValues<S>;
  /** Names of the flags the user actually gave. */
  changed: Set<keyof S & string>;
  positionals: string[];
}

export interface ParseOptions {
  /** false: the first positional argument ends flag parsing (docker run/exec). */
  interspersed?: boolean;
}

/** A flag-grammar error; front ends print it with a usage hint and exit 125 as docker does. */
export class FlagError extends InvalidArgumentError {
  constructor(message: string) {
    super(message, { code: 'BERTH_FLAG_ERROR' });
  }
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool, which pflag uses for `--flag=value`. */
export function parseGoBool(text: string): boolean | undefined {
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  return undefined;
}

function defaultValue(spec: FlagSpec): boolean | string | number | string[] {
  switch (spec.type) {
    case 'bool':
      return spec.default === true;
    case 'strings':
      return Array.isArray(spec.default) ? [...(spec.default as readonly string[])] : [];
    case 'int':
      return typeof spec.default === 'number' ? spec.default : 0;
    case 'string':
      return typeof spec.default === 'string' ? spec.default : '';
  }
}

/** Parses `argv` (without the program and command names) against `specs`. */
export function parseFlags<S extends FlagSpecs>(specs: S, argv: readonly string[], options: ParseOptions = {}): ParsedFlags<S> {
  const interspersed = options.interspersed ?? true;
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) values[name] = defaultValue(spec);
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);

  const changed = new Set<string>();
  const positionals: string[] = [];
  const assignedStrings = new Set<string>();

  const assign = (name: string, raw: string, shown: string): void => {
    const spec = specs[name]!;
    switch (spec.type) {
      case 'bool': {
        const b = parseGoBool(raw);
        if (b === undefined) {
          throw new FlagError(`invalid argument "${raw}" for "${shown}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`);
        }
        values[name] = b;
        break;
      }
      case 'int': {
        if (!/^[-+]?\d+$/.test(raw)) {
          throw new FlagError(`invalid argument "${raw}" for "${shown}" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`);
        }
        values[name] = Number.parseInt(raw, 10);
        break;
      }
      case 'strings': {
        // The default list is replaced by the first value the user gives, then appended to.
        if (!assignedStrings.has(name)) values[name] = [];
        assignedStrings.add(name);
        (values[name] as string[]).push(raw);
        break;
      }
      case 'string':
        values[name] = raw;
        break;
    }
    changed.add(name);
  };

  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    i += 1;
    if (arg === '--') {
      positionals.push(...argv.slice(i));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const spec = specs[name];
      if (!spec) throw new FlagError(`unknown flag: --${name}`);
      if (eq !== -1) {
        assign(name, arg.slice(eq + 1), `--${name}`);
      } else if (spec.type === 'bool') {
        assign(name, 'true', `--${name}`);
      } else {
        if (i >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
        assign(name, argv[i]!, `--${name}`);
        i += 1;
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // A run of short flags: every bool is set; the first non-bool takes the rest (or the next arg).
      let j = 1;
      while (j < arg.length) {
        const letter = arg[j]!;
        const name = byShort.get(letter);
        if (name === undefined) throw new FlagError(`unknown shorthand flag: '${letter}' in ${arg}`);
        const spec = specs[name]!;
        const rest = arg.slice(j + 1);
        if (spec.type === 'bool') {
          if (rest.startsWith('=')) {
            assign(name, rest.slice(1), `-${letter}, --${name}`);
            break;
          }
          assign(name, 'true', `-${letter}, --${name}`);
          j += 1;
          continue;
        }
        if (rest.length > 0) {
          assign(name, rest.startsWith('=') ? rest.slice(1) : rest, `-${letter}, --${name}`);
        } else {
          if (i >= argv.length) throw new FlagError(`flag needs an argument: '${letter}' in -${letter}`);
          assign(name, argv[i]!, `-${letter}, --${name}`);
          i += 1;
        }
        break;
      }
      continue;
    }
    positionals.push(arg);
    if (!interspersed) {
      positionals.push(...argv.slice(i));
      break;
    }
  }
  return { flags: values as FlagValues<S>, changed: changed as Set<keyof S & string>, positionals };
}

/** Help text for a flag set, laid out as cobra prints "Options:". */
export function formatFlagHelp(specs: FlagSpecs): string {
  const rows: [string, string][] = [];
  for (const [name, spec] of Object.entries(specs).sort(([a], [b]) => a.localeCompare(b))) {
    if (spec.hidden) continue;
    const short = spec.short ? `-${spec.short}, ` : '    ';
    const valueName = spec.type === 'bool' ? '' : ` ${spec.valueName ?? (spec.type === 'strings' ? 'list' : spec.type)}`;
    let usage = spec.usage;
    if (spec.type !== 'bool' && spec.default !== undefined && spec.default !== '' && !(Array.isArray(spec.default) && spec.default.length === 0)) {
      usage += spec.type === 'string' ? ` (default "${String(spec.default)}")` : ` (default ${String(spec.default)})`;
    }
    rows.push([`  ${short}--${name}${valueName}`, usage]);
  }
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${left.padEnd(width)}   ${right}`).join('\n');
}
