/**
 * An attached client session, as `docker run`, `start -a -i` and `attach` hold it: output to the
 * terminal (demultiplexed, or raw with a TTY), stdin to the container (half-closed at EOF), the
 * local terminal in raw mode for a TTY, and the container's TTY kept the terminal's size.
 */
import type { Readable } from 'node:stream';
import type { ReadStream, WriteStream } from 'node:tty';
import type { CliContext } from './command.js';
import type { EngineClient } from './engine-client.js';
import { demultiplex, hijack } from './attach-stream.js';
import { DEFAULT_DETACH_KEYS, DetachKeyScanner, parseDetachKeys } from '../containers/detach-keys.js';

export interface AttachOptions {
  stdin: boolean;
  tty: boolean;
  detachKeys?: string;
}

export interface AttachSession {
  /** Resolves when the output stream ends (the container stopped, or the client detached). */
  output: Promise<void>;
  /** Whether the user typed the detach keys (the container runs on). */
  readonly detached: boolean;
  /** After start: sizes the container's TTY to the local terminal, and keeps it so. */
  started(): Promise<void>;
  close(): void;
}

export async function openAttachSession(client: EngineClient, id: string, ctx: CliContext, options: AttachOptions): Promise<AttachSession> {
  const query = new URLSearchParams({ stream: '1', stdin: options.stdin ? '1' : '0', stdout: '1', stderr: '1' });
  if (options.detachKeys) query.set('detachKeys', options.detachKeys);
  const socket = await hijack(client, `/containers/${id}/attach?${query}`);
  const stdin = ctx.stdin as Readable & Partial<Pick<ReadStream, 'isTTY' | 'setRawMode'>>;
  const rawMode = options.stdin && options.tty && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  if (rawMode) stdin.setRawMode!(true);
  // As docker: the detach keys are watched on a TTY only, here and by the daemon alike.
  const scanner = options.stdin && options.tty ? new DetachKeyScanner(parseDetachKeys(options.detachKeys || DEFAULT_DETACH_KEYS)) : undefined;
  let detached = false;
  const onInput = (chunk: Buffer) => {
    if (!scanner) {
      socket.write(chunk);
      return;
    }
    const { forward, detached: done } = scanner.scan(chunk);
    if (forward.length > 0) socket.write(forward);
    if (done) {
      detached = true;
      socket.destroy();
    }
  };
  const onInputEnd = () => socket.end(); // half-close: output keeps coming until the container stops
  if (options.stdin) {
    stdin.on('data', onInput);
    stdin.once('end', onInputEnd);
  }
  const stopInput = () => {
    if (!options.stdin) return;
    stdin.off('data', onInput);
    stdin.off('end', onInputEnd);
    if (rawMode) stdin.setRawMode!(false);
    stdin.pause();
    // stdin must not keep the process alive once the container's output has ended.
    (stdin as { unref?: () => void }).unref?.();
  };
  const output = (async () => {
    try {
      if (options.tty) {
        for await (const chunk of socket) ctx.stdout.write(chunk as Buffer);
      } else {
        await demultiplex(socket, ctx.stdout, ctx.stderr);
      }
    } catch {
      // the connection was cut: the exit status says what happened
    } finally {
      stopInput();
    }
  })();
  const terminal = ctx.stdout as Partial<WriteStream>;
  const resize = () => {
    if (!terminal.isTTY || !terminal.rows || !terminal.columns) return Promise.resolve();
    return client.request('POST', `/containers/${id}/resize`, { query: { h: String(terminal.rows), w: String(terminal.columns) } }).then(() => undefined, () => undefined);
  };
  const onWindowChange = () => void resize();
  return {
    output,
    get detached() {
      return detached;
    },
    async started() {
      if (!options.tty) return;
      process.on('SIGWINCH', onWindowChange);
      void output.then(() => process.off('SIGWINCH', onWindowChange));
      await resize();
    },
    close() {
      process.off('SIGWINCH', onWindowChange);
      stopInput();
      socket.destroy();
    },
  };
}
