/** Docker's progress messages (pkg/jsonmessage): what the docker CLI turns into its bars. */
import { humanSize } from '../lib/human-units.js';

export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: unknown;
  stream?: string;
}

export type ProgressSink = (message: ProgressMessage) => void;

/** The bar Docker draws: "[=====>      ]  1.23MB/4.56MB" (50 columns). */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return `${humanSize(current).padStart(8)}`;
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  return `[${bar}] ${`${humanSize(current)}/${humanSize(total)}`.padStart(18)}`;
}

export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Throttles "Downloading"/"Pushing" updates to a few per second per layer. */
export class ProgressThrottle {
  private last = new Map<string, number>();

  constructor(private readonly nowMs: () => number, private readonly intervalMs = 100) {}

  due(id: string, done: boolean): boolean {
    const now = this.nowMs();
    if (!done && now - (this.last.get(id) ?? 0) < this.intervalMs) return false;
    this.last.set(id, now);
    return true;
  }
}
