/**
 * Parses a Dockerfile with BuildKit's rules: parser directives (# syntax, # escape) at the top,
 * comments, line continuations with the escape character, heredocs (<<EOF, <<-EOF, quoted
 * delimiters) on RUN, COPY and ADD, flags (--from=..., --chown=...), and the exec (JSON) form
 * with the shell-form fallback when the JSON is not an array of strings. Expansion of variables
 * happens later, per instruction, when the builder knows the values.
 */
import { DockerfileError } from './dockerfile-error.js';

export interface Heredoc {
  name: string;
  content: string;
  /** False for a quoted delimiter (<<'EOF'): no variable expansion in the content. */
  expand: boolean;
}

export interface Instruction {
  keyword: string;
  /** The line the instruction starts on (1-based). */
  line: number;
  /** The instruction as written, continuations joined (for "Step N/M : ..."). */
  original: string;
  /** Leading --name=value flags, in order. */
  flags: { name: string; value: string | undefined }[];
  /** Everything after the keyword and its flags, unexpanded. */
  args: string;
  /** The exec form when args is a JSON array of strings. */
  json?: string[];
  heredocs: Heredoc[];
}

export interface ParsedDockerfile {
  escape: string;
  instructions: Instruction[];
}

const KEYWORDS = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
const JSON_KEYWORDS = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'VOLUME', 'COPY', 'ADD', 'HEALTHCHECK']);
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;

export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  let index = 0;
  // Directives: only before anything else; the first line that is not one ends them.
  const seen = new Set<string>();
  for (; index < lines.length; index++) {
    const m = DIRECTIVE.exec(lines[index]!);
    if (!m) break;
    const name = m[1]!.toLowerCase();
    if (seen.has(name)) throw DockerfileError.atLine(index + 1, `only one ${name} parser directive can be used`);
    seen.add(name);
    if (name === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw DockerfileError.atLine(index + 1, `invalid escape token '${m[2]}' does not match ` + '` or \\');
      escape = m[2]!;
    }
  }
  const instructions: Instruction[] = [];
  while (index < lines.length) {
    const raw = lines[index]!;
    if (raw.trim() === '' || /^\s*#/.test(raw)) {
      index++;
      continue;
    }
    const startLine = index + 1;
    let logical = '';
    // Joins continuation lines; comment lines inside a continuation are dropped, as BuildKit does.
    for (;;) {
      const line = lines[index++] ?? '';
      const trimmedEnd = line.replace(/\s+$/, '');
      if (trimmedEnd.endsWith(escape)) {
        logical += trimmedEnd.slice(0, -1);
        while (index < lines.length && /^\s*#/.test(lines[index]!)) index++;
        if (index >= lines.length) break;
        continue;
      }
      logical += line;
      break;
    }
    const trimmed = logical.trim();
    const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed)!;
    const keyword = m[1]!.toUpperCase();
    if (!KEYWORDS.has(keyword)) throw DockerfileError.atLine(startLine, `unknown instruction: ${m[1]}`);
    let rest = m[2]!;
    const flags: Instruction['flags'] = [];
    if (keyword !== 'ONBUILD') {
      for (;;) {
        const flag = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
        if (!flag) break;
        flags.push({ name: flag[1]!, value: flag[2] });
        rest = rest.slice(flag[0].length);
      }
    }
    const heredocs: Heredoc[] = [];
    if (HEREDOC_KEYWORDS.has(keyword)) {
      const markers = [...rest.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)];
      for (const marker of markers) {
        const strip = marker[1] === '-';
        const name = marker[3]!;
        const body: string[] = [];
        let closed = false;
        while (index < lines.length) {
          let line = lines[index++]!;
          if (strip) line = line.replace(/^\t+/, '');
          if (line === name) {
            closed = true;
            break;
          }
          body.push(line);
        }
        if (!closed) throw DockerfileError.atLine(startLine, `unterminated heredoc ${name}`);
        heredocs.push({ name, content: body.length ? `${body.join('\n')}\n` : '', expand: marker[2] === '' });
      }
    }
    const instruction: Instruction = { keyword, line: startLine, original: trimmed, flags, args: rest.trim(), heredocs };
    if (JSON_KEYWORDS.has(keyword) && instruction.args.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(instruction.args);
        if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) instruction.json = parsed as string[];
      } catch {
        // Not JSON: the shell form, as Docker falls back to.
      }
    }
    instructions.push(instruction);
  }
  if (instructions.length === 0) throw new DockerfileError('the Dockerfile cannot be empty');
  const first = instructions.find((i) => i.keyword !== 'ARG');
  if (first && first.keyword !== 'FROM') throw DockerfileError.atLine(first.line, 'no build stage in current context');
  return { escape, instructions };
}

/** The value of a flag, or undefined; an unknown flag is an error naming it, as Docker's. */
export function flagValues(instruction: Instruction, allowed: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const flag of instruction.flags) {
    if (flag.name === 'mount' || flag.name === 'network' || flag.name === 'security') {
      throw DockerfileError.atLine(instruction.line, `the --${flag.name} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`);
    }
    if (!allowed.includes(flag.name)) throw DockerfileError.atLine(instruction.line, `unknown flag: --${flag.name}`);
    values.set(flag.name, flag.value ?? 'true');
  }
  return values;
}
