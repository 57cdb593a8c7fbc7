/**
 * A 200 response of newline-delimited JSON whose headers go out at once: the docker CLI waits for
 * them before it goes on (events, wait, logs --follow, pull progress).
 */
import type { ApiReply } from './api-reply.js';

export interface JsonStream {
  /** Writes one message; resolves when the socket can take more. */
  write(json: string): Promise<void>;
  end(): void;
  /** Aborted when the client hangs up. */
  readonly signal: AbortSignal;
}

export function openJsonStream(reply: ApiReply): JsonStream {
  reply.hijack();
  const res = reply.raw;
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  return {
    signal: abort.signal,
    write(json: string): Promise<void> {
      if (abort.signal.aborted) return Promise.resolve();
      if (res.write(json + '\n')) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    },
    end(): void {
      if (!res.writableEnded) res.end();
    },
  };
}
