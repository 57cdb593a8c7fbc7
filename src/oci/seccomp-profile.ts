/**
 * Docker's seccomp profile format (the one golang-github-containers-common installs) compiled to the
 * OCI runtime spec's linux.seccomp for one architecture and one capability set: rules whose
 * `includes` hold and whose `excludes` do not are kept, as moby's profile loader does.
 */
import { InvalidArgumentError } from '../lib/errors.js';

interface ProfileRule {
  names?: string[];
  name?: string;
  action: string;
  args?: { index: number; value: number; valueTwo?: number; op: string }[] | null;
  errnoRet?: number;
  includes?: { caps?: string[]; arches?: string[] };
  excludes?: { caps?: string[]; arches?: string[] };
}

export interface SeccompProfileDocument {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls?: ProfileRule[];
}

/** Go architecture names to libseccomp's. */
const SCMP_ARCH: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  x86: 'SCMP_ARCH_X86',
  '386': 'SCMP_ARCH_X86',
  x32: 'SCMP_ARCH_X32',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
};

export function parseSeccompProfile(text: string, source: string): SeccompProfileDocument {
  try {
    const parsed = JSON.parse(text) as SeccompProfileDocument;
    if (typeof parsed.defaultAction !== 'string') throw new Error('defaultAction is missing');
    return parsed;
  } catch (err) {
    throw new InvalidArgumentError(`opening seccomp profile (${source}) failed: ${(err as Error).message}`);
  }
}

export function compileSeccomp(profile: SeccompProfileDocument, goArch: string, capabilities: readonly string[]): Record<string, unknown> {
  const scmpArch = SCMP_ARCH[goArch];
  const arches = (profile.archMap ?? []).filter((a) => a.architecture === scmpArch).flatMap((a) => [a.architecture, ...(a.subArchitectures ?? [])]);
  // Rule arches use Go names: the host's, and the 32-bit ones it runs.
  const hostArches = new Set([goArch, ...(goArch === 'amd64' ? ['x86', 'x32', '386'] : goArch === 'arm64' ? ['arm'] : [])]);
  const syscalls = [];
  for (const rule of profile.syscalls ?? []) {
    const includes = rule.includes ?? {};
    const excludes = rule.excludes ?? {};
    if (includes.arches?.length && !includes.arches.some((a) => a === goArch)) continue;
    if (includes.caps?.length && !includes.caps.every((c) => capabilities.includes(c))) continue;
    if (excludes.arches?.some((a) => hostArches.has(a) && a === goArch)) continue;
    if (excludes.caps?.some((c) => capabilities.includes(c))) continue;
    const names = rule.names ?? (rule.name ? [rule.name] : []);
    if (names.length === 0) continue;
    syscalls.push({
      names,
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args && rule.args.length ? { args: rule.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
    });
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures: arches.length ? arches : scmpArch ? [scmpArch] : [],
    syscalls,
  };
}
