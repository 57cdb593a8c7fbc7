import { execFile } from 'node:child_process';

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  /** Working directory (overlay mounts use short relative lower paths). */
  cwd?: string;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Every external program berth runs (runc, ip, nft, mount, ...) goes through this, so tests can
 * record argument vectors and the daemon has one place to log and time them.
 */
export interface CommandRunner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

/** Runs programs as child processes; a non-zero exit is a result, not an exception. */
export class ChildProcessCommandRunner implements CommandRunner {
  run(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        file,
        args,
        { encoding: 'utf8', timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, cwd: options.cwd },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') {
            reject(error);
            return;
          }
          resolve({ stdout, stderr, exitCode: error ? Number(error.code) : 0 });
        },
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
    });
  }
}
