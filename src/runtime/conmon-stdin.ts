/**
 * A container's stdin goes through conmon's attach socket (`<bundle>/attach`, SOCK_SEQPACKET):
 * each message is written to the container's stdin pipe or pty, and when the last writer hangs up
 * conmon closes stdin (unless it runs with --leave-stdin-open). Node has no SEQPACKET sockets, so
 * socat carries the bytes: one small process per attached stdin, which also drains the output
 * conmon sends back on the socket (berth reads output from the log).
 *
 * A relay can be written to before the container exists: the CLI attaches (and may send all of
 * its stdin) before it starts the container, so bytes are queued until `connect`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { basename, dirname } from 'node:path';

/** Queued input before start beyond which the client is asked to wait (write returns false). */
const QUEUE_HIGH_WATER = 1024 * 1024;

export class StdinRelay extends EventEmitter {
  private child: ChildProcess | undefined;
  private readonly queued: Buffer[] = [];
  private queuedBytes = 0;
  private ending = false;
  private closed = false;

  constructor(private readonly socatPath: string) {
    super();
  }

  /** Connects to conmon's attach socket and sends what was queued. */
  connect(attachSocketPath: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      // socat reads at most -b bytes per message; conmon takes up to 32 KiB per message. The
      // path is relative to the bundle: a full one can pass the 108-byte limit of socket paths.
      const child = spawn(this.socatPath, ['-b', '16384', '-t', '0', 'STDIO', `UNIX-CONNECT:${basename(attachSocketPath)},type=5`], {
        cwd: dirname(attachSocketPath),
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdin!.on('error', () => undefined); // socat gone: the container's stdin is closed anyway
      child.stdin!.on('drain', () => this.emit('drain'));
      child.once('error', (err) => reject(err));
      child.once('spawn', () => {
        this.child = child;
        for (const chunk of this.queued.splice(0)) child.stdin!.write(chunk);
        this.queuedBytes = 0;
        this.emit('drain');
        if (this.ending) child.stdin!.end();
        resolve();
      });
      child.once('exit', (code) => {
        this.closed = true;
        if (code !== 0 && code !== null && stderr) this.emit('failed', new Error(stderr.trim()));
      });
    });
  }

  get connected(): boolean {
    return this.child !== undefined;
  }

  /** False when the caller should wait for 'drain' before writing more. */
  write(data: Buffer): boolean {
    if (this.closed || this.ending) return true;
    if (this.child) return this.child.stdin!.write(data);
    this.queued.push(Buffer.from(data));
    this.queuedBytes += data.length;
    return this.queuedBytes < QUEUE_HIGH_WATER;
  }

  /** No more input: once everything is sent, hang up so conmon can close the container's stdin. */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    this.child?.stdin!.end();
  }

  /** Drops the connection without sending what is still queued (a detach). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queued.length = 0;
    if (this.child && this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}
