/** Summaries for benchmark samples: the machines are noisy, so medians and ratios, not one run. */
export interface Summary {
  n: number;
  min: number;
  median: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { n: sorted.length, min: sorted[0] ?? NaN, median, max: sorted[sorted.length - 1] ?? NaN };
}

export function formatMs(summary: Summary): string {
  return `min ${summary.min.toFixed(1)} ms  median ${summary.median.toFixed(1)} ms  max ${summary.max.toFixed(1)} ms  (n=${summary.n})`;
}

/** Milliseconds `fn` took, wall clock. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}
