/**
 * `docker exec -t`: runc needs a console socket to hand over the pty, which Node cannot receive,
 * so conmon runs the exec (as Podman does): it holds the pty, writes the output to a k8s-file log
 * that berth follows, takes stdin on its attach socket (through socat, as for containers), resizes
 * through its control FIFO, and records the exit code in the exec's own directory.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { followLog } from '../logs/log-follow.js';
import { attachSocketPath, type ConmonMonitor } from '../runtime/conmon-monitor.js';
import { StdinRelay } from '../runtime/conmon-stdin.js';
import { execExitCode } from './exec-exit-code.js';

export interface TerminalExec {
  monitor: ConmonMonitor;
  socatPath: string | undefined;
  /** The exec's directory (removed when it ends). */
  dir: string;
  containerId: string;
  execId: string;
  runtimePath: string;
  process: Record<string, unknown>;
  stdin?: Readable;
  write?: (chunk: Buffer) => void;
  onStarted(pid: number): void;
}

export async function runTerminalExec(exec: TerminalExec): Promise<number> {
  await mkdir(join(exec.dir, 'exits'), { recursive: true });
  const processFile = join(exec.dir, 'process.json');
  await writeFile(processFile, JSON.stringify(exec.process));
  let relay: StdinRelay | undefined;
  try {
    let started: { pid: number };
    try {
      started = await exec.monitor.exec({ containerId: exec.containerId, execId: exec.execId, dir: exec.dir, runtimePath: exec.runtimePath, processFile, stdin: exec.stdin !== undefined && exec.socatPath !== undefined });
    } catch (err) {
      const message = (err as Error).message.replace(/^the OCI runtime could not start the exec: /, '');
      exec.write?.(Buffer.from(`OCI runtime exec failed: ${message}: unknown\r\n`));
      return execExitCode(message);
    }
    exec.onStarted(started.pid);
    if (exec.stdin && exec.socatPath) {
      relay = new StdinRelay(exec.socatPath);
      const input = exec.stdin;
      const stdinRelay = relay;
      await relay.connect(attachSocketPath(exec.dir)).catch(() => undefined);
      input.on('data', (chunk: Buffer) => {
        if (!stdinRelay.write(chunk)) input.pause();
      });
      relay.on('drain', () => input.resume());
      input.on('end', () => stdinRelay.end());
    }
    let exited = false;
    const exitCode = exec.monitor.waitExit(join(exec.dir, 'exits'), exec.containerId).finally(() => (exited = true));
    for await (const batch of followLog(join(exec.dir, 'log'), { follow: true, stopped: () => exited, stopping: exitCode })) {
      for (const record of batch) exec.write?.(Buffer.from(record.text));
    }
    return await exitCode;
  } finally {
    relay?.close();
    await rm(exec.dir, { recursive: true, force: true });
  }
}

/** Resizes a running terminal exec through its conmon's control FIFO. */
export async function resizeTerminalExec(monitor: ConmonMonitor, dir: string, height: number, width: number): Promise<void> {
  await monitor.resize(dir, height, width);
}
