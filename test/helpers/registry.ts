/** Starts a private berth-registry (temp root, a free loopback port) and talks to it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { REPO_ROOT } from './berthd.js';

export const BERTH_REGISTRY = join(REPO_ROOT, 'bin', 'berth-registry');

export interface TestRegistry {
  root: string;
  port: number;
  /** "127.0.0.1:PORT" */
  host: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL, as a crash. */
  crash(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startRegistry(options: { root?: string; port?: number; args?: string[] } = {}): Promise<TestRegistry> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'berth-registry-test-')));
  const child = spawn(process.execPath, [BERTH_REGISTRY, 'serve', '--addr', `127.0.0.1:${options.port ?? 0}`, '--root', join(root, 'storage'), '--log-level', 'warn', ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const match = /listening on [^:]+:(\d+)/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`berth-registry exited with ${code}: ${output}`)));
    setTimeout(() => reject(new Error(`berth-registry did not start: ${output}`)), 15_000).unref();
  });
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    root,
    port,
    host: `127.0.0.1:${port}`,
    process: child,
    output: () => output,
    stop: () => stopWith('SIGTERM'),
    crash: () => stopWith('SIGKILL'),
    cleanup: async () => {
      await stopWith('SIGTERM');
      if (!options.root) await rm(root, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

/** A request with the path sent exactly as given (fetch would normalise "/../"). */
export function rawRequest(port: number, method: string, path: string, options: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...(body ? { 'Content-Length': String(body.length) } : {}), ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, text: all.toString(), json: <T>() => JSON.parse(all.toString()) as T });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
