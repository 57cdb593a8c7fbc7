/**
 * bcrypt off the event loop: a worker thread compares passwords one at a time, so a flood of
 * bad passwords costs a CPU core's worth of hashing, never the server's responsiveness. The
 * queue is bounded: past it, a check is refused at once instead of waiting behind the flood.
 */
import { Worker, parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

export const BCRYPT_WORKER_ROLE = 'berth-registry-bcrypt';

interface CompareRequest {
  id: number;
  password: string;
  hash: string;
}

interface CompareReply {
  id: number;
  match: boolean;
}

/** The worker thread's side: answers compare requests until the thread ends. */
export function serveBcryptRequests(): void {
  parentPort?.on('message', (request: CompareRequest) => {
    let match = false;
    try {
      match = bcrypt.compareSync(request.password, request.hash);
    } catch {
      // A malformed hash matches nothing.
    }
    parentPort!.postMessage({ id: request.id, match } satisfies CompareReply);
  });
}

export class QueueFullError extends Error {}

/** The server's side: one worker, started on first use, restarted if it dies. */
export class BcryptWorker {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (match: boolean) => void; reject: (err: Error) => void }>();

  /** `script` is a module that calls serveBcryptRequests() when started with this role as workerData. */
  constructor(
    private readonly script: URL,
    private readonly maxPending: number,
  ) {}

  /** Resolves whether `password` matches `hash`; QueueFullError when too many checks wait. */
  compare(password: string, hash: string): Promise<boolean> {
    if (this.pending.size >= this.maxPending) return Promise.reject(new QueueFullError('too many password checks in progress'));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<boolean>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, password, hash } satisfies CompareRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script, { workerData: { role: BCRYPT_WORKER_ROLE } });
    worker.on('message', (reply: CompareReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      // Idle, the worker must not keep the process alive.
      if (!this.pending.size) worker.unref();
      waiter?.resolve(reply.match);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.pending.values()) waiter.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the bcrypt worker exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
