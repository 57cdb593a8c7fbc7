/** Runs the berth CLI and the real docker CLI against a test daemon. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH } from './berthd.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** The berth CLI with `host` as its daemon (BERTH_HOST; DOCKER_HOST cleared). */
export function berth(host: string | undefined, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, BERTH_HOST: host, DOCKER_HOST: undefined, ...options.env };
  if (host === undefined) delete env['BERTH_HOST'];
  return run(process.execPath, [BERTH, ...args], env, options.input);
}

/** True when the real docker CLI is on PATH (these machines have 28.2). */
export const dockerCliAvailable = spawnSync('docker', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * The real docker CLI with DOCKER_HOST at `host` and a throwaway config directory, so the
 * user's own ~/.docker is neither read nor written.
 */
export async function docker(host: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string | Buffer; configDir?: string } = {}): Promise<CliResult> {
  // A config directory the caller owns persists logins between calls; otherwise a throwaway one.
  const config = options.configDir ?? mkdtempSync(join(tmpdir(), 'berth-docker-config-'));
  try {
    return await run('docker', args, { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: config, DOCKER_CONTEXT: undefined, DOCKER_CLI_HINTS: 'false', ...options.env }, options.input);
  } finally {
    if (!options.configDir) rmSync(config, { recursive: true, force: true });
  }
}
