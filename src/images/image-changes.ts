/**
 * `--change` instructions for import and commit: the Dockerfile instructions that only touch an
 * image's config (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER,
 * VOLUME, WORKDIR), in exec (JSON) or shell form.
 */
import { InvalidArgumentError } from '../lib/errors.js';
import type { ContainerConfig } from '../oci/index.js';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

/** Splits on whitespace, honouring double and single quotes and backslash escapes. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
      continue;
    }
    if (c === '"' || c === "'") { quote = c; inWord = true; continue; }
    if (c === '\\' && i + 1 < text.length) { current += text[++i]; inWord = true; continue; }
    if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      continue;
    }
    current += c;
    inWord = true;
  }
  if (quote) throw new InvalidArgumentError(`unmatched ${quote} in "${text}"`);
  if (inWord) words.push(current);
  return words;
}

/** JSON array form when it parses as a list of strings, otherwise the shell form. */
function commandArgs(rest: string, shell: string[] = ['/bin/sh', '-c']): string[] {
  const trimmed = rest.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed as string[];
    } catch {
      // not JSON: Docker falls back to the shell form
    }
  }
  return [...shell, trimmed];
}

function keyValues(rest: string, instruction: string): [string, string][] {
  const words = splitWords(rest);
  if (words.length === 0) throw new InvalidArgumentError(`${instruction} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    // legacy form: ENV KEY value with spaces
    const [key, ...value] = rest.trim().split(/\s+/);
    if (value.length === 0) throw new InvalidArgumentError(`${instruction} must have two arguments`);
    return [[key!, rest.trim().slice(key!.length).trim()]];
  }
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`${instruction} names can not be blank: "${word}"`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
function parseDurationNs(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw new InvalidArgumentError(`invalid duration "${text}"`);
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    i = re.lastIndex;
  }
  return Math.round(total);
}

/** Applies `changes` to a copy of `config`. */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const out: ContainerConfig = structuredClone(config);
  for (const change of changes) {
    const match = /^\s*(\S+)\s*(.*)$/s.exec(change);
    if (!match) continue;
    const instruction = match[1]!.toUpperCase();
    const rest = match[2]!;
    if (!ALLOWED.includes(instruction)) throw new InvalidArgumentError(`${match[1]} is not a valid change command`);
    switch (instruction) {
      case 'CMD':
        out.Cmd = commandArgs(rest);
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = commandArgs(rest);
        break;
      case 'ENV': {
        const env = out.Env ?? [];
        for (const [key, value] of keyValues(rest, 'ENV')) {
          const index = env.findIndex((e) => e.split('=')[0] === key);
          if (index === -1) env.push(`${key}=${value}`);
          else env[index] = `${key}=${value}`;
        }
        out.Env = env;
        break;
      }
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(keyValues(rest, 'LABEL')) };
        break;
      case 'EXPOSE': {
        const ports = { ...(out.ExposedPorts ?? {}) };
        for (const word of splitWords(rest)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(word)) throw new InvalidArgumentError(`invalid containerPort: ${word}`);
          ports[word.includes('/') ? word.toLowerCase() : `${word}/tcp`] = {};
        }
        out.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const volumes = { ...(out.Volumes ?? {}) };
        const trimmed = rest.trim();
        const paths = trimmed.startsWith('[') ? (JSON.parse(trimmed) as string[]) : splitWords(trimmed);
        for (const path of paths) volumes[path] = {};
        out.Volumes = volumes;
        break;
      }
      case 'USER':
        out.User = rest.trim();
        break;
      case 'WORKDIR':
        out.WorkingDir = rest.trim();
        break;
      case 'STOPSIGNAL':
        out.StopSignal = rest.trim();
        break;
      case 'ONBUILD':
        out.OnBuild = [...(out.OnBuild ?? []), rest.trim()];
        break;
      case 'HEALTHCHECK': {
        const trimmed = rest.trim();
        if (/^NONE$/i.test(trimmed)) {
          out.Healthcheck = { Test: ['NONE'] };
          break;
        }
        const health: NonNullable<ContainerConfig['Healthcheck']> = {};
        let remaining = trimmed;
        for (;;) {
          const flag = /^--(interval|timeout|start-period|start-interval|retries)=(\S+)\s+/.exec(remaining);
          if (!flag) break;
          remaining = remaining.slice(flag[0].length);
          const [, name, value] = flag;
          if (name === 'retries') health.Retries = Number(value);
          else if (name === 'interval') health.Interval = parseDurationNs(value!);
          else if (name === 'timeout') health.Timeout = parseDurationNs(value!);
          else if (name === 'start-period') health.StartPeriod = parseDurationNs(value!);
          else health.StartInterval = parseDurationNs(value!);
        }
        const cmd = /^CMD\s+(.*)$/is.exec(remaining);
        if (!cmd) throw new InvalidArgumentError('HEALTHCHECK needs CMD or NONE');
        const args = commandArgs(cmd[1]!, []);
        health.Test = cmd[1]!.trim().startsWith('[') && args.length > 0 ? ['CMD', ...args] : ['CMD-SHELL', cmd[1]!.trim()];
        out.Healthcheck = health;
        break;
      }
    }
  }
  return out;
}
