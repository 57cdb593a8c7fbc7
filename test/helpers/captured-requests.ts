/**
 * The requests the real docker CLI 28.2.2 sent for 65 commands (test/fixtures, copied from
 * ../shared/reference), grouped by command, so tests can replay them against berthd.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CapturedRequest {
  method: string;
  path: string;
  query?: Record<string, string[]>;
  headers?: Record<string, string>;
  body?: unknown;
  kind: string;
}

export interface CapturedCommand {
  command: string;
  requests: CapturedRequest[];
  exitCode?: number;
}

export function loadCapturedCommands(): CapturedCommand[] {
  const text = readFileSync(fileURLToPath(new URL('../fixtures/docker-cli-28.2.2-requests.jsonl', import.meta.url)), 'utf8');
  const commands: CapturedCommand[] = [];
  let current: CapturedCommand | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    if (typeof record['command'] === 'string') {
      current = { command: record['command'], requests: [] };
      commands.push(current);
    } else if (typeof record['end'] === 'string' && current) {
      current.exitCode = record['exit_code'] as number;
    } else if ((record['kind'] === 'http' || record['kind'] === 'upgrade') && current) {
      current.requests.push(record as unknown as CapturedRequest);
    }
  }
  return commands;
}

/** The request line's path with its query string. */
export function requestTarget(request: CapturedRequest): string {
  const search = new URLSearchParams();
  for (const [key, values] of Object.entries(request.query ?? {})) for (const value of values) search.append(key, value);
  const query = search.toString();
  return query ? `${request.path}?${query}` : request.path;
}
