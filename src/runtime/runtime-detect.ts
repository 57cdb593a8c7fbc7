/**
 * Which OCI runtimes this host has and which one containers use by default. crun 1.8 refuses
 * cgroup v1 and hybrid hosts, so crun is the default only where cgroup v2 is unified.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join, isAbsolute } from 'node:path';
import type { CommandRunner } from '../lib/command-runner.js';
import { FailedPreconditionError, InvalidArgumentError } from '../lib/errors.js';
import type { CgroupMode } from '../system/host-probe.js';

export interface RuntimeInfo {
  name: string;
  path: string;
  version: string;
  commit: string;
}

export interface RuntimeSelection {
  runtimes: RuntimeInfo[];
  defaultRuntime: string;
}

export interface RuntimeConfig {
  /** daemon.json `runtimes`: name -> { path }. */
  runtimes: Record<string, { path: string }>;
  /** daemon.json `default-runtime`, when set. */
  defaultRuntime?: string;
}

export async function findExecutable(name: string, searchPath: string): Promise<string | undefined> {
  const candidates = isAbsolute(name) ? [name] : searchPath.split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * The runtime with its version filled in once `--version` answers. Only /version and /info show
 * it, so berthd does not wait for two more processes before it serves (they finish in ~20 ms).
 */
function describeRuntime(name: string, path: string, runner: CommandRunner): RuntimeInfo {
  const info: RuntimeInfo = { name, path, version: 'unknown', commit: 'unknown' };
  void runner.run(path, ['--version'], { timeoutMs: 5_000 }).then((result) => {
    const text = result.stdout;
    info.version = /version\s+(\S+)/i.exec(text)?.[1] ?? 'unknown';
    info.commit = /^commit:\s*(\S+)/m.exec(text)?.[1] ?? info.version;
  }, () => undefined);
  return info;
}

export async function detectRuntimes(config: RuntimeConfig, cgroupMode: CgroupMode, runner: CommandRunner, searchPath: string): Promise<RuntimeSelection> {
  const wanted: Record<string, string> = { runc: 'runc', crun: 'crun' };
  for (const [name, entry] of Object.entries(config.runtimes)) wanted[name] = entry.path;
  const found = await Promise.all(
    Object.entries(wanted).map(async ([name, program]) => {
      const path = await findExecutable(program, searchPath);
      return path ? describeRuntime(name, path, runner) : undefined;
    }),
  );
  const runtimes = found.filter((r): r is RuntimeInfo => r !== undefined);
  // Like dockerd without its runtime: no container could ever start, so say so now, not at each run.
  if (runtimes.length === 0) {
    throw new FailedPreconditionError(`no OCI runtime found: none of ${Object.values(wanted).join(', ')} is in PATH (${searchPath}); install runc (Debian: apt-get install runc) or configure one in daemon.json "runtimes"`);
  }
  const has = (name: string) => runtimes.some((r) => r.name === name);
  let defaultRuntime: string;
  if (config.defaultRuntime) {
    if (!has(config.defaultRuntime)) {
      throw new InvalidArgumentError(`default runtime ${config.defaultRuntime} is not installed or not configured (found: ${runtimes.map((r) => r.name).join(', ') || 'none'})`);
    }
    defaultRuntime = config.defaultRuntime;
  } else if (cgroupMode === 'unified' && has('crun')) {
    defaultRuntime = 'crun';
  } else {
    defaultRuntime = has('runc') ? 'runc' : (runtimes[0]?.name ?? 'runc');
  }
  return { runtimes, defaultRuntime };
}

/**
 * conmon, the monitor every container runs under: berthd refuses to start without it (as dockerd
 * refuses without its runtime), since no container could start and the error belongs where the
 * administrator starts the daemon.
 */
export async function findConmon(searchPath: string): Promise<string> {
  const path = await findExecutable('conmon', searchPath);
  if (!path) throw new FailedPreconditionError(`conmon not found in PATH (${searchPath}): berthd runs every container under conmon; install it (Debian: apt-get install conmon)`);
  return path;
}
