/**
 * Sends fuzz requests to one berthd over a keep-alive pool and classifies each answer: a status,
 * a dropped connection, or no answer at all. Streaming answers (events, logs, stats, wait) are
 * cut after their first bytes: the status is what the fuzzer judges.
 */
import { Agent, request } from 'node:http';

export interface FuzzRequest {
  method: string;
  /** Path with query string, as it goes on the request line. */
  target: string;
  contentType?: string;
  body?: string | Buffer;
  /** Send the body chunked, without Content-Length. */
  chunked?: boolean;
  /** What the generator meant (for the report). */
  note: string;
}

export type FuzzOutcome = { kind: 'status'; status: number; body: string } | { kind: 'dropped'; error: string } | { kind: 'no-answer' };

const READ_CAP = 64 * 1024;

export class FuzzClient {
  private readonly agent: Agent;

  constructor(
    private readonly socketPath: string,
    concurrency: number,
    private readonly answerTimeoutMs: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  }

  send(fuzz: FuzzRequest): Promise<FuzzOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: FuzzOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const headers: Record<string, string> = { Host: 'berth' };
      if (fuzz.contentType) headers['Content-Type'] = fuzz.contentType;
      if (fuzz.body !== undefined && !fuzz.chunked) headers['Content-Length'] = String(Buffer.byteLength(fuzz.body));
      const req = request({ socketPath: this.socketPath, agent: this.agent, method: fuzz.method, path: fuzz.target, headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => finish({ kind: 'status', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 2_000) });
        res.on('data', (chunk: Buffer) => {
          if (size < READ_CAP) chunks.push(chunk);
          size += chunk.length;
          if (size >= READ_CAP) {
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('error', done);
        res.on('close', done);
        // A stream that goes on (events, a follow, stats) has said what it had to: its status.
        const type = String(res.headers['content-type'] ?? '');
        if ((res.statusCode ?? 0) < 300 && !res.headers['content-length'] && /json|stream|tar/.test(type)) {
          setTimeout(() => {
            done();
            res.destroy();
          }, 200).unref();
        }
      });
      const timer = setTimeout(() => {
        finish({ kind: 'no-answer' });
        req.destroy();
      }, this.answerTimeoutMs);
      req.on('error', (err) => finish({ kind: 'dropped', error: (err as NodeJS.ErrnoException).code ?? err.message }));
      if (fuzz.body === undefined) req.end();
      else if (fuzz.chunked) {
        // Several writes: the server sees a body with no declared length.
        const body = Buffer.from(fuzz.body);
        const step = 1024 * 1024;
        for (let at = 0; at < body.length; at += step) req.write(body.subarray(at, at + step));
        req.end();
      } else req.end(fuzz.body);
    });
  }

  /** Sends all, at most `concurrency` at a time (the agent's pool), answers in order. */
  sendAll(requests: readonly FuzzRequest[]): Promise<FuzzOutcome[]> {
    return Promise.all(requests.map((r) => this.send(r)));
  }

  close(): void {
    this.agent.destroy();
  }
}
