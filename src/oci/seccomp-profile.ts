/**
 * Docker's seccomp profile format compiled to the OCI runtime spec's linux.seccomp for one host
 * and one container: rules whose `includes` hold and whose `excludes` do not are kept, as moby's
 * profile loader does (capabilities are the container's bounding set; arches are Go names).
 */
import { InvalidArgumentError } from '../lib/errors.js';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

interface Condition {
  caps?: string[];
  arches?: string[];
  /** "<kernel>.<major>", e.g. "4.8". */
  minKernel?: string;
}

export interface SeccompRule {
  names?: string[];
  /** The old single-name form. */
  name?: string;
  action: string;
  args?: SeccompArg[] | null;
  errnoRet?: number;
  comment?: string;
  includes?: Condition;
  excludes?: Condition;
}

export interface SeccompProfileDocument {
  defaultAction: string;
  defaultErrnoRet?: number;
  /** A plain list of libseccomp architectures, or archMap (one or the other). */
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: SeccompRule[];
}

/** What a profile is compiled for: the host and the container's capabilities. */
export interface SeccompTarget {
  goArch: string;
  /** The host kernel's release (`uname -r`), for minKernel conditions. */
  kernelRelease: string;
  capabilities: readonly string[];
}

const ACTIONS = new Set(['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY']);
const OPERATORS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);

/** Go architecture names to the names profiles' conditions use (moby's "native" names). */
const NATIVE_ARCH: Record<string, string> = { '386': 'x86', amd64: 'amd64', arm: 'arm', arm64: 'arm64', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loongarch64' };
/** Go architecture names to libseccomp's. */
const SCMP_ARCH: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  '386': 'SCMP_ARCH_X86',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
  loong64: 'SCMP_ARCH_LOONGARCH64',
};

/**
 * Reads a profile's JSON text (what the docker CLI sends in `seccomp=<json>`, or a file's
 * content) and checks its shape, so a bad profile is refused before any container starts;
 * the message is Docker's: `Decoding seccomp profile failed: ...`.
 */
export function parseSeccompProfile(text: string): SeccompProfileDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`Decoding seccomp profile failed: ${(err as Error).message}`, { cause: err });
  }
  const problem = profileProblem(parsed);
  if (problem) throw new InvalidArgumentError(`Decoding seccomp profile failed: ${problem}`);
  const profile = parsed as SeccompProfileDocument;
  if (profile.architectures?.length && profile.archMap?.length) {
    throw new InvalidArgumentError("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  for (const rule of profile.syscalls ?? []) {
    if (rule.name && rule.names?.length) throw new InvalidArgumentError("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
  }
  return profile;
}

const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function profileProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the profile must be a JSON object';
  const p = value as Record<string, unknown>;
  if (typeof p['defaultAction'] !== 'string' || !ACTIONS.has(p['defaultAction'])) return `invalid defaultAction ${JSON.stringify(p['defaultAction'] ?? null)}`;
  if (p['defaultErrnoRet'] !== undefined && !isCount(p['defaultErrnoRet'])) return 'defaultErrnoRet must be a non-negative integer';
  if (p['architectures'] != null && !isStrings(p['architectures'])) return 'architectures must be a list of strings';
  if (p['flags'] != null && !isStrings(p['flags'])) return 'flags must be a list of strings';
  if (p['archMap'] != null) {
    if (!Array.isArray(p['archMap'])) return 'archMap must be a list';
    for (const a of p['archMap'] as unknown[]) {
      const entry = a as Record<string, unknown> | null;
      if (typeof entry !== 'object' || entry === null || typeof entry['architecture'] !== 'string') return 'each archMap entry needs an architecture';
      if (entry['subArchitectures'] != null && !isStrings(entry['subArchitectures'])) return 'subArchitectures must be a list of strings';
    }
  }
  if (p['syscalls'] == null) return undefined;
  if (!Array.isArray(p['syscalls'])) return 'syscalls must be a list';
  for (const [i, r] of (p['syscalls'] as unknown[]).entries()) {
    const rule = r as Record<string, unknown> | null;
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return `syscalls[${i}] must be an object`;
    if (rule['names'] != null && !isStrings(rule['names'])) return `syscalls[${i}].names must be a list of strings`;
    if (rule['name'] != null && typeof rule['name'] !== 'string') return `syscalls[${i}].name must be a string`;
    if (typeof rule['action'] !== 'string' || !ACTIONS.has(rule['action'])) return `syscalls[${i}]: invalid action ${JSON.stringify(rule['action'] ?? null)}`;
    if (rule['errnoRet'] !== undefined && !isCount(rule['errnoRet'])) return `syscalls[${i}].errnoRet must be a non-negative integer`;
    if (rule['args'] != null) {
      if (!Array.isArray(rule['args'])) return `syscalls[${i}].args must be a list`;
      for (const a of rule['args'] as unknown[]) {
        const arg = a as Record<string, unknown> | null;
        if (typeof arg !== 'object' || arg === null || !isCount(arg['index']) || !isCount(arg['value']) || (arg['valueTwo'] !== undefined && !isCount(arg['valueTwo'])) || typeof arg['op'] !== 'string' || !OPERATORS.has(arg['op'])) {
          return `syscalls[${i}].args: each needs index, value (non-negative integers) and a known op`;
        }
      }
    }
    for (const key of ['includes', 'excludes'] as const) {
      const c = rule[key] as Record<string, unknown> | null | undefined;
      if (c == null) continue;
      if (typeof c !== 'object' || Array.isArray(c)) return `syscalls[${i}].${key} must be an object`;
      if ((c['caps'] != null && !isStrings(c['caps'])) || (c['arches'] != null && !isStrings(c['arches']))) return `syscalls[${i}].${key}: caps and arches must be lists of strings`;
      if (c['minKernel'] != null && c['minKernel'] !== '' && parseKernel(c['minKernel']) === undefined) return `invalid kernel version: ${JSON.stringify(c['minKernel'])}, expected "<kernel>.<major>"`;
    }
  }
  return undefined;
}

/** "<kernel>.<major>" (or a release such as "6.1.0-13-amd64") as a comparable pair. */
function parseKernel(text: unknown): [number, number] | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^(\d+)\.(\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function kernelAtLeast(release: string, minimum: string): boolean {
  const have = parseKernel(release);
  const want = parseKernel(minimum);
  if (!have || !want) return false;
  return have[0] > want[0] || (have[0] === want[0] && have[1] >= want[1]);
}

/** The runtime spec's linux.seccomp for `target`. */
export function compileSeccomp(profile: SeccompProfileDocument, target: SeccompTarget): Record<string, unknown> {
  const arch = NATIVE_ARCH[target.goArch] ?? target.goArch;
  const scmpArch = SCMP_ARCH[target.goArch];
  const mapped = (profile.archMap ?? []).find((a) => a.architecture === scmpArch);
  const architectures = profile.architectures?.length ? profile.architectures : mapped ? [mapped.architecture, ...(mapped.subArchitectures ?? [])] : [];
  const has = (cap: string) => target.capabilities.includes(cap);
  const syscalls = [];
  for (const rule of profile.syscalls ?? []) {
    const { includes = {}, excludes = {} } = rule;
    if (excludes.arches?.includes(arch)) continue;
    if (excludes.caps?.some(has)) continue;
    if (excludes.minKernel && kernelAtLeast(target.kernelRelease, excludes.minKernel)) continue;
    if (includes.arches?.length && !includes.arches.includes(arch)) continue;
    if (includes.caps?.length && !includes.caps.every(has)) continue;
    if (includes.minKernel && !kernelAtLeast(target.kernelRelease, includes.minKernel)) continue;
    const names = rule.names?.length ? rule.names : rule.name ? [rule.name] : [];
    if (names.length === 0) continue;
    syscalls.push({
      names,
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args?.length ? { args: rule.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
    });
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    ...(architectures.length ? { architectures } : {}),
    ...(profile.flags?.length ? { flags: profile.flags } : {}),
    ...(profile.listenerPath ? { listenerPath: profile.listenerPath } : {}),
    ...(profile.listenerMetadata ? { listenerMetadata: profile.listenerMetadata } : {}),
    syscalls,
  };
}

/** A container's `seccomp=` security option: none given, the daemon's default ("builtin"), off, or a profile's JSON text. */
export type SeccompChoice = { kind: 'daemon-default' } | { kind: 'builtin' } | { kind: 'unconfined' } | { kind: 'custom'; profile: SeccompProfileDocument };

/** Reads the `seccomp=` option of a container's SecurityOpt (400 for a profile that does not parse). */
export function seccompChoiceOf(securityOpts: readonly string[]): SeccompChoice {
  const option = securityOpts.find((o) => /^seccomp[=:]/.test(o));
  if (option === undefined) return { kind: 'daemon-default' };
  const value = option.slice('seccomp='.length);
  if (value === 'unconfined') return { kind: 'unconfined' };
  if (value === 'builtin') return { kind: 'builtin' };
  return { kind: 'custom', profile: parseSeccompProfile(value) };
}
