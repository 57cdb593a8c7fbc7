/**
 * Log records into what `logs` and `attach` send: Docker's multiplexed frames (raw bytes with a
 * TTY), a batch at a time, consecutive records of one stream sharing a frame, so a million lines
 * cost a few large writes rather than a million small ones.
 */
import type { LogRecord } from './k8s-file.js';

export interface LogSelection {
  stdout: boolean;
  stderr: boolean;
  /** Unix seconds; records before it (since) or after it (until) are left out. */
  sinceSeconds?: number;
  untilSeconds?: number;
}

export function selectRecords(records: readonly LogRecord[], selection: LogSelection): LogRecord[] {
  const sinceMs = selection.sinceSeconds !== undefined ? selection.sinceSeconds * 1000 : undefined;
  const untilMs = selection.untilSeconds !== undefined ? selection.untilSeconds * 1000 : undefined;
  return records.filter((r) => {
    if (r.stream === 'stdout' ? !selection.stdout : !selection.stderr) return false;
    if (sinceMs === undefined && untilMs === undefined) return true;
    const t = Date.parse(r.time);
    return (sinceMs === undefined || t >= sinceMs) && (untilMs === undefined || t <= untilMs);
  });
}

/**
 * The records of the last `lines` lines. conmon splits a line it read in pieces into partial
 * records (no newline) and a final one, and `--tail N` means N lines, as with Docker's json-file.
 * A last record without a newline is a line of its own (the output did not end with one).
 */
export function lastLines(records: readonly LogRecord[], lines: number): LogRecord[] {
  let seen = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    const endsLine = i === records.length - 1 || records[i]!.text.endsWith('\n');
    if (endsLine && ++seen > lines) return records.slice(i + 1);
  }
  return records.slice();
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * conmon's record time (local time with its offset, "+00:00" on a UTC host) as Docker prints it
 * with `logs -t`: UTC, nine fraction digits, "Z".
 */
export function dockerTimestamp(time: string): string {
  const match = RFC3339.exec(time);
  if (!match) return time;
  const [, seconds, fraction = '', offset] = match;
  const utc = offset === 'Z' || offset === '+00:00' ? seconds! : new Date(`${seconds}${offset}`).toISOString().slice(0, 19);
  return `${utc}.${fraction.padEnd(9, '0')}Z`;
}

export function encodeRecords(records: readonly LogRecord[], options: { tty: boolean; timestamps: boolean }): Buffer {
  const text = (r: LogRecord) => (options.timestamps ? `${dockerTimestamp(r.time)} ${r.text}` : r.text);
  if (options.tty) return Buffer.from(records.map(text).join(''));
  const parts: Buffer[] = [];
  for (let i = 0; i < records.length; ) {
    const stream = records[i]!.stream;
    let j = i;
    const texts: string[] = [];
    while (j < records.length && records[j]!.stream === stream) texts.push(text(records[j++]!));
    const payload = Buffer.from(texts.join(''));
    const header = Buffer.alloc(8);
    header[0] = stream === 'stdout' ? 1 : 2;
    header.writeUInt32BE(payload.length, 4);
    parts.push(header, payload);
    i = j;
  }
  return Buffer.concat(parts);
}
