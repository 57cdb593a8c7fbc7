/** Time formats the docker CLI prints, written out as Go's time package would. */
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** time.ANSIC in local time: "Mon Jan _2 15:04:05 2006". */
export function formatAnsic(date: Date): string {
  return `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2, ' ')} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${date.getFullYear()}`;
}

function zone(date: Date): string {
  const offset = -date.getTimezoneOffset();
  if (offset === 0) return 'Z';
  const sign = offset > 0 ? '+' : '-';
  return `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/** jsonmessage.RFC3339NanoFixed in local time: "2006-01-02T15:04:05.000000000Z07:00". */
export function formatRfc3339NanoFixed(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const date = new Date(ms);
  const nanos = ((timeNano % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${nanos.toString().padStart(9, '0')}${zone(date)}`;
}

/**
 * The docker CLI's timestamps for --since/--until: a Go duration ago ("10m", "1h30m", "0s"),
 * a Unix time ("1700000000.5"), or an RFC 3339 date/time. Returns "seconds[.nanos]".
 */
export function toApiTimestamp(text: string, nowMs: number): string {
  const value = text.trim();
  if (/^-?\d+(\.\d{1,9})?$/.test(value)) return value;
  const duration = parseGoDuration(value);
  if (duration !== undefined) {
    const ms = nowMs - duration;
    return `${Math.floor(ms / 1000)}.${pad(Math.floor(ms % 1000) * 1_000_000, 9)}`;
  }
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00`) : new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`failed to parse value as time or duration: "${text}"`);
  const ms = date.getTime();
  return `${Math.floor(ms / 1000)}.${pad((ms % 1000) * 1_000_000, 9)}`;
}

import { parseGoDuration } from '../lib/go-duration.js';
export { parseGoDuration };
