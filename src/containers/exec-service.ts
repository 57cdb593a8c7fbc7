/**
 * `docker exec`: a process started in a running container with `runc exec`, sharing the
 * container's environment, user, working directory and capabilities unless the exec sets its own.
 * The exit code is recorded before the output stream closes, because the CLI asks for it next.
 */
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../lib/errors.js';
import type { NewEvent } from '../events/index.js';
import type { ContainerService } from './container-service.js';
import { resolveUser } from './container-process.js';
import { resizeTerminalExec, runTerminalExec } from './exec-terminal.js';
import type { ConmonMonitor } from '../runtime/conmon-monitor.js';
import { execExitCode } from './exec-exit-code.js';

export interface ExecConfig {
  Cmd?: string[];
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  /** [height, width] of the client's terminal (API 1.42+). */
  ConsoleSize?: [number, number] | null;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
}

export interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
}

export interface ExecOutput {
  stdin?: Readable;
  write(stream: 'stdout' | 'stderr', chunk: Buffer): void;
}

interface PreparedExec {
  exec: ExecRecord;
  container: { id: string; name: string; imageName: string };
  processSpec: Record<string, unknown>;
}

/**
 * Docker's exec preconditions, in its order: a paused container is running too, so "paused" is
 * checked first; `term` is how the caller named the container (Docker echoes it for paused).
 */
function assertRunning(id: string, status: string, term: string): void {
  if (status === 'paused') throw new ConflictError(`Container ${term} is paused, unpause the container before exec`);
  if (status !== 'running') throw new ConflictError(`container ${id} is not running`);
}

export class ExecService {
  private readonly execs = new Map<string, ExecRecord>();
  /** The conmon directories of running terminal execs, for resize. */
  private readonly terminalDirs = new Map<string, string>();

  constructor(
    private readonly containers: ContainerService,
    private readonly publish: (event: NewEvent) => void,
    private readonly heldCapabilities: string[],
    private readonly terminal?: { monitor: ConmonMonitor; socatPath: string | undefined },
  ) {}

  create(containerTerm: string, config: ExecConfig): string {
    const container = this.containers.get(containerTerm);
    assertRunning(container.id, container.state.status, containerTerm);
    if (!config.Cmd || config.Cmd.length === 0) throw new InvalidArgumentError('No exec command specified');
    if (config.Tty && !this.terminal) throw new InvalidArgumentError('exec with a TTY (-t) needs conmon, which this berthd does not have');
    const id = randomBytes(32).toString('hex');
    this.execs.set(id, { id, containerId: container.id, config, running: false, exitCode: null, pid: 0 });
    this.publish({ Type: 'container', Action: `exec_create: ${config.Cmd.join(' ')}`, Actor: { ID: container.id, Attributes: { execID: id, name: container.name, image: container.imageName } } });
    return id;
  }

  get(id: string): ExecRecord {
    const exec = this.execs.get(id);
    if (!exec) throw new NotFoundError(`No such exec instance: ${id}`);
    return exec;
  }

  /**
   * Throws what Docker answers before it hijacks an exec start: no such exec, already run, its
   * container not running or paused. Errors after this point belong in the exec's output stream.
   */
  checkStartable(id: string): ExecRecord {
    const exec = this.get(id);
    if (exec.running || exec.exitCode !== null) throw new ConflictError(`Error: Exec command ${id} has already run`);
    const container = this.containers.get(exec.containerId);
    assertRunning(container.id, container.state.status, container.id);
    return exec;
  }

  /**
   * `Detach: true`: resolves once the process is launched (an error before that, such as an
   * unknown user, is the answer), then runs on and its exit code is recorded when it ends.
   */
  async startDetached(id: string, onError: (err: unknown) => void): Promise<void> {
    const prepared = await this.prepare(id);
    void this.launch(prepared, undefined).catch(onError);
  }

  /**
   * Starts the process with its output attached; resolves with its exit code when it ends
   * (after recording it). A failure before the runtime runs (an unknown user) is written to the
   * output with exit code 126, as Docker does once the stream is hijacked.
   */
  async start(id: string, output: ExecOutput): Promise<number> {
    this.checkStartable(id);
    let prepared: PreparedExec;
    try {
      prepared = await this.prepare(id);
    } catch (err) {
      output.write('stdout', Buffer.from(`${(err as Error).message}\r\n`));
      return 126;
    }
    return this.launch(prepared, output);
  }

  /** Marks the exec running at once (so a second start is refused) and builds its process spec. */
  private async prepare(id: string): Promise<PreparedExec> {
    const exec = this.checkStartable(id);
    const container = this.containers.get(exec.containerId);
    exec.running = true;
    try {
      return { exec, container, processSpec: await this.processSpecOf(exec, container.id) };
    } catch (err) {
      // Docker's code for an exec that never reached the runtime.
      exec.running = false;
      exec.exitCode = 126;
      throw err;
    }
  }

  private async processSpecOf(exec: ExecRecord, containerId: string): Promise<Record<string, unknown>> {
    const bundle = this.containers.bundlePath(containerId);
    const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: Record<string, unknown> & { env: string[]; user: unknown; cwd: string; capabilities: unknown } };
    const env = [...spec.process.env];
    for (const entry of exec.config.Env ?? []) {
      const key = entry.split('=')[0]!;
      const index = env.findIndex((e) => e.split('=')[0] === key);
      if (index === -1) env.push(entry);
      else env[index] = entry;
    }
    const user = exec.config.User ? await resolveUser(join(bundle, 'rootfs'), exec.config.User) : undefined;
    const caps = exec.config.Privileged ? this.heldCapabilities : undefined;
    const processSpec = {
      ...spec.process,
      terminal: false,
      args: exec.config.Cmd,
      env,
      cwd: exec.config.WorkingDir || spec.process.cwd,
      ...(user ? { user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids } } : {}),
      ...(caps ? { capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [] } } : {}),
    };
    return processSpec;
  }

  private async launch({ exec, container, processSpec }: PreparedExec, output: ExecOutput | undefined): Promise<number> {
    const id = exec.id;
    if (exec.config.Tty && this.terminal) return this.startOnTerminal(exec, container.id, container.name, container.imageName, processSpec, output);
    const processFile = join(this.containers.bundlePath(container.id), `exec-${id}.json`);
    await writeFile(processFile, JSON.stringify(processSpec));
    const detached = output === undefined;
    const child = spawn(this.containers.runtimePathOf(container.id), ['exec', '--process', processFile, container.id], {
      stdio: [exec.config.AttachStdin && !detached ? 'pipe' : 'ignore', detached ? 'ignore' : 'pipe', detached ? 'ignore' : 'pipe'],
    });
    exec.pid = child.pid ?? 0;
    this.publish({ Type: 'container', Action: `exec_start: ${exec.config.Cmd!.join(' ')}`, Actor: { ID: container.id, Attributes: { execID: id, name: container.name, image: container.imageName } } });
    let runtimeError: string | undefined;
    if (output) {
      child.stdout?.on('data', (chunk: Buffer) => output.write('stdout', chunk));
      child.stderr?.on('data', (chunk: Buffer) => {
        // runc's own failure (the command could not be started) arrives on the same stderr as a
        // logrus line: turn it into Docker's message and exit code instead of passing it on.
        const runc = /^time="[^"]*" level=error msg="(.*)"\n?$/s.exec(chunk.toString());
        if (runc) runtimeError = runc[1]!.replace(/\\"/g, '"');
        else output.write('stderr', chunk);
      });
      if (child.stdin && output.stdin) {
        child.stdin.on('error', () => undefined);
        output.stdin.pipe(child.stdin);
      }
    }
    const code = await new Promise<number>((resolve) => {
      child.on('error', () => resolve(126));
      child.on('close', (status, signal) => resolve(status ?? (signal ? 128 + (({ SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 1) : 1)));
    });
    let exitCode = code;
    if (runtimeError && output) {
      output.write('stderr', Buffer.from(`OCI runtime exec failed: ${runtimeError}: unknown\n`));
      exitCode = execExitCode(runtimeError);
    }
    exec.running = false;
    exec.exitCode = exitCode;
    await rm(processFile, { force: true });
    this.publish({ Type: 'container', Action: 'exec_die', Actor: { ID: container.id, Attributes: { execID: id, exitCode: String(exitCode), name: container.name, image: container.imageName } } });
    return exitCode;
  }

  /** An exec with a TTY, under its own conmon; the output is raw (one stream), as Docker sends it. */
  private async startOnTerminal(exec: ExecRecord, containerId: string, name: string, image: string, processSpec: Record<string, unknown>, output: ExecOutput | undefined): Promise<number> {
    const env = (processSpec['env'] as string[]).some((e) => e.startsWith('TERM=')) ? processSpec['env'] : [...(processSpec['env'] as string[]), 'TERM=xterm'];
    const size = exec.config.ConsoleSize;
    const spec = { ...processSpec, env, terminal: true, ...(size && size[0] > 0 && size[1] > 0 ? { consoleSize: { height: size[0], width: size[1] } } : {}) };
    this.terminalDirs.set(exec.id, this.terminalDir(containerId, exec.id));
    const exitCode = await runTerminalExec({
      monitor: this.terminal!.monitor,
      socatPath: this.terminal!.socatPath,
      dir: this.terminalDir(containerId, exec.id),
      containerId,
      execId: exec.id,
      runtimePath: this.containers.runtimePathOf(containerId),
      process: spec,
      ...(exec.config.AttachStdin && output?.stdin ? { stdin: output.stdin } : {}),
      ...(output ? { write: (chunk: Buffer) => output.write('stdout', chunk) } : {}),
      onStarted: (pid) => {
        exec.pid = pid;
        this.publish({ Type: 'container', Action: `exec_start: ${exec.config.Cmd!.join(' ')}`, Actor: { ID: containerId, Attributes: { execID: exec.id, name, image } } });
      },
    }).finally(() => this.terminalDirs.delete(exec.id));
    exec.running = false;
    exec.exitCode = exitCode;
    this.publish({ Type: 'container', Action: 'exec_die', Actor: { ID: containerId, Attributes: { execID: exec.id, exitCode: String(exitCode), name, image } } });
    return exitCode;
  }

  private terminalDir(containerId: string, execId: string): string {
    return join(this.containers.bundlePath(containerId), `exec-${execId.slice(0, 12)}`);
  }

  /** POST /exec/{id}/resize: only an exec with a TTY has something to resize. */
  async resize(id: string, height: number, width: number): Promise<void> {
    const exec = this.get(id);
    const dir = this.terminalDirs.get(exec.id);
    if (!exec.config.Tty || !dir || !exec.running || !this.terminal) return;
    await resizeTerminalExec(this.terminal.monitor, dir, height, width).catch(() => undefined);
  }

  inspect(id: string): Record<string, unknown> {
    const exec = this.get(id);
    return {
      ID: exec.id,
      Running: exec.running,
      ExitCode: exec.exitCode,
      ProcessConfig: { tty: exec.config.Tty === true, entrypoint: exec.config.Cmd?.[0] ?? '', arguments: exec.config.Cmd?.slice(1) ?? [], privileged: exec.config.Privileged ?? false, user: exec.config.User ?? '' },
      OpenStdin: exec.config.AttachStdin ?? false,
      OpenStderr: exec.config.AttachStderr ?? false,
      OpenStdout: exec.config.AttachStdout ?? false,
      CanRemove: false,
      ContainerID: exec.containerId,
      DetachKeys: '',
      Pid: exec.pid,
    };
  }
}
