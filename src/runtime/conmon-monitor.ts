/**
 * Containers run under conmon, one small monitor each: it runs `runc create`, holds the container's
 * stdio, writes its k8s-file log, records its exit code in the exit directory, and outlives berthd.
 * conmon reports the container's pid (or the runtime's error) on a sync pipe.
 */
import { spawn } from 'node:child_process';
import { access, open, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { watch } from 'node:fs';
import { join } from 'node:path';
import type { CommandRunner } from '../lib/command-runner.js';
import { InternalError, NotFoundError, errnoCode } from '../lib/errors.js';

export interface MonitorSpec {
  id: string;
  name: string;
  bundleDir: string;
  runtimePath: string;
  logPath: string;
  exitDir: string;
  socketDir: string;
  /** Maximum log size before conmon rotates it (bytes); -1 for no limit. */
  logSizeMax: number;
  /** Keep a pipe (or the pty) open for stdin, fed through the attach socket (`-i`). */
  stdin: boolean;
  /** Keep stdin open when the last attached client hangs up (Docker's StdinOnce=false). */
  leaveStdinOpen: boolean;
  /** Run the process on a pty (`-t`): conmon receives its master through a console socket. */
  terminal: boolean;
}

export interface ExecMonitorSpec {
  containerId: string;
  execId: string;
  /** The exec's own directory: conmon's bundle for the pty, log, control FIFO and exit file. */
  dir: string;
  runtimePath: string;
  processFile: string;
  stdin: boolean;
}

/** The attach socket conmon creates in the bundle (with --full-attach). */
export function attachSocketPath(bundleDir: string): string {
  return join(bundleDir, 'attach');
}

/** The control FIFO conmon reads "1 <height> <width>" resize messages from. */
export function controlFifoPath(bundleDir: string): string {
  return join(bundleDir, 'ctl');
}

export class ConmonMonitor {
  constructor(
    private readonly conmonPath: string,
    private readonly runner: CommandRunner,
  ) {}

  /** Creates the container (not yet started); resolves with the container's pid. */
  create(spec: MonitorSpec): Promise<{ pid: number; conmonPid: number }> {
    const args = [
      '--api-version', '1',
      '-c', spec.id,
      '-u', spec.id,
      '-n', spec.name,
      '-r', spec.runtimePath,
      '-b', spec.bundleDir,
      '-p', join(spec.bundleDir, 'pidfile'),
      '-P', join(spec.bundleDir, 'conmon.pid'),
      '-l', `k8s-file:${spec.logPath}`,
      '--log-size-max', String(spec.logSizeMax),
      '--exit-dir', spec.exitDir,
      // conmon records an OOM kill as an "oom" file in its persist directory.
      '-0', spec.bundleDir,
      '--socket-dir-path', spec.socketDir,
      '--full-attach',
      ...(spec.stdin ? ['-i'] : []),
      ...(spec.stdin && spec.leaveStdinOpen ? ['--leave-stdin-open'] : []),
      ...(spec.terminal ? ['-t'] : []),
      '--log-level', 'warning',
      '--runtime-arg', '--log-format=json',
      '--runtime-arg', `--log=${join(spec.bundleDir, 'runtime.log')}`,
    ];
    return this.spawnMonitor(args, join(spec.bundleDir, 'conmon.pid'), 'create the container');
  }

  /**
   * `docker exec -t`: conmon runs `runc exec` of `spec.processFile` on a pty it holds, in its own
   * directory (log, control FIFO, attach socket for stdin, exit file named after the container).
   */
  exec(spec: ExecMonitorSpec): Promise<{ pid: number; conmonPid: number }> {
    const args = [
      '--api-version', '1',
      '-c', spec.containerId,
      '-u', spec.execId,
      '-n', spec.execId,
      '-r', spec.runtimePath,
      '-b', spec.dir,
      '-p', join(spec.dir, 'pidfile'),
      '-P', join(spec.dir, 'conmon.pid'),
      '-l', `k8s-file:${join(spec.dir, 'log')}`,
      '--exit-dir', join(spec.dir, 'exits'),
      '--socket-dir-path', spec.dir,
      '--full-attach',
      '-e', '--exec-process-spec', spec.processFile,
      '-t',
      ...(spec.stdin ? ['-i', '--leave-stdin-open'] : []),
      '--log-level', 'warning',
    ];
    return this.spawnMonitor(args, join(spec.dir, 'conmon.pid'), 'start the exec');
  }

  /** Spawns conmon detached and resolves with the pid it reports on its sync pipe. */
  private spawnMonitor(args: string[], conmonPidFile: string, what: string): Promise<{ pid: number; conmonPid: number }> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.conmonPath, args, {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
        env: { ...process.env, _OCI_SYNCPIPE: '3' },
        detached: true,
      });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      let sync = '';
      const syncPipe = child.stdio[3] as NodeJS.ReadableStream;
      let settled = false;
      const finish = (err: Error | undefined, pid?: number) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else readFile(conmonPidFile, 'utf8').then(
          (text) => resolve({ pid: pid!, conmonPid: Number(text.trim()) }),
          () => resolve({ pid: pid!, conmonPid: 0 }),
        );
      };
      syncPipe.on('data', (c: Buffer) => {
        sync += c.toString();
        for (const line of sync.split('\n')) {
          if (!line.trim()) continue;
          try {
            const message = JSON.parse(line) as { pid?: number; data?: number; message?: string };
            const pid = message.pid ?? message.data;
            if (pid !== undefined && pid > 0) finish(undefined, pid);
            else if (pid !== undefined) finish(new InternalError(`the OCI runtime could not ${what}: ${message.message ?? 'unknown error'}`));
          } catch {
            // partial line: wait for the rest
          }
        }
      });
      syncPipe.on('end', () => finish(new InternalError(`conmon ended before reporting the container's pid: ${stderr.trim() || 'no output'}`)));
      child.on('error', (err) => finish(new InternalError(`cannot run conmon: ${err.message}`)));
      child.unref();
    });
  }

  /** Whether the runtime keeps state for this ID (runc's and crun's default roots). */
  async hasState(id: string): Promise<boolean> {
    for (const root of ['/run/runc', '/run/crun']) {
      if (await access(join(root, id)).then(() => true, () => false)) return true;
    }
    return false;
  }

  async start(id: string, runtimePath: string): Promise<void> {
    const result = await this.runner.run(runtimePath, ['start', id]);
    if (result.exitCode !== 0) throw new InternalError(`${runtimePath} start ${id} failed: ${result.stderr.trim()}`);
  }

  async kill(id: string, runtimePath: string, signal: string): Promise<void> {
    const result = await this.runner.run(runtimePath, ['kill', id, signal]);
    if (result.exitCode !== 0 && !/not running|does not exist|process already finished/.test(result.stderr)) {
      throw new InternalError(`${runtimePath} kill ${id} ${signal} failed: ${result.stderr.trim()}`);
    }
  }

  async delete(id: string, runtimePath: string): Promise<void> {
    const result = await this.runner.run(runtimePath, ['delete', '--force', id]);
    if (result.exitCode !== 0 && !/does not exist/.test(result.stderr)) throw new InternalError(`${runtimePath} delete ${id} failed: ${result.stderr.trim()}`);
  }

  /** Resizes the container's pty through conmon's control FIFO. */
  async resize(bundleDir: string, height: number, width: number): Promise<void> {
    await this.control(bundleDir, `1 ${height} ${width}\n`);
  }

  /** Makes conmon reopen its log file (after berthd rotated it away). */
  async reopenLog(bundleDir: string): Promise<void> {
    await this.control(bundleDir, '2 0 0\n');
  }

  private async control(bundleDir: string, message: string): Promise<void> {
    // Non-blocking: conmon holds the FIFO's read end while it runs; ENXIO means it has gone.
    const fifo = await open(controlFifoPath(bundleDir), constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      await fifo.write(message);
    } finally {
      await fifo.close();
    }
  }

  /**
   * The pid of the container's conmon while it is alive. Only a process whose command line names
   * this bundle counts: a pid file can outlive its process and the pid be reused.
   */
  async monitorPid(bundleDir: string): Promise<number | undefined> {
    const pid = Number((await readFile(join(bundleDir, 'conmon.pid'), 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    return cmdline[0]?.endsWith('conmon') && cmdline.includes(bundleDir) ? pid : undefined;
  }

  /** Ends the container's conmon if one is still alive (after a crash of berthd mid-start). */
  async stopMonitor(bundleDir: string): Promise<void> {
    const pid = await this.monitorPid(bundleDir);
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }

  /** Whether the kernel's OOM killer ended the container (conmon's "oom" file). */
  async oomKilled(bundleDir: string): Promise<boolean> {
    return readFile(join(bundleDir, 'oom')).then(() => true, () => false);
  }

  /** The runtime's view: "created", "running", "stopped", or undefined when it has none. */
  async state(id: string, runtimePath: string): Promise<{ status: string; pid: number } | undefined> {
    const result = await this.runner.run(runtimePath, ['state', id]);
    if (result.exitCode !== 0) return undefined;
    const state = JSON.parse(result.stdout) as { status: string; pid: number };
    return { status: state.status, pid: state.pid };
  }

  /** The exit code conmon recorded, or undefined while the container runs. */
  async exitCode(exitDir: string, id: string): Promise<number | undefined> {
    try {
      const text = (await readFile(join(exitDir, id), 'utf8')).trim();
      return text === '' ? undefined : Number(text);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Resolves with the exit code once conmon writes it. */
  waitExit(exitDir: string, id: string, signal?: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      const watcher = watch(exitDir);
      const check = () => {
        this.exitCode(exitDir, id).then((code) => {
          if (code === undefined) return;
          watcher.close();
          resolve(code);
        }, reject);
      };
      watcher.on('change', check);
      watcher.on('error', (err) => reject(err));
      signal?.addEventListener('abort', () => {
        watcher.close();
        reject(new NotFoundError('wait aborted'));
      });
      check();
    });
  }
}
