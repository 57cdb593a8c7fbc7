/** Go's duration syntax ("1m30s", "500ms"), as the docker CLI and Dockerfiles write durations. */
const UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    re.lastIndex = index;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS_MS[m[2]!]!;
    index = re.lastIndex;
  }
  return index === 0 ? undefined : total;
}
