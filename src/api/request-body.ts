/**
 * JSON request bodies: read whole up to a limit and parsed. Other bodies (tars for import, load,
 * build and docker cp) are not read here; the route streams them from the request itself.
 */
import type { IncomingMessage } from 'node:http';
import { InvalidArgumentError } from '../lib/errors.js';

/**
 * No Engine API body nests more than a dozen levels. A body nested thousands deep parses, but
 * every recursive walk of it later (JSON.stringify of a record, structuredClone) overflows the
 * stack: it is refused here, as Go's decoder refuses one deeper than 10,000.
 */
export const MAX_NESTING = 512;

function checkNesting(text: string, limit: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) throw new InvalidArgumentError(`invalid JSON in request body: nested deeper than ${limit} levels`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** application/json, with or without parameters such as charset. */
export function isJsonRequest(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  if (!type) return false;
  const semicolon = type.indexOf(';');
  return (semicolon === -1 ? type : type.slice(0, semicolon)).trim().toLowerCase() === 'application/json';
}

/** The parsed body; undefined when it is empty. Bad JSON or a body over `limit` bytes is a 400. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    throw new InvalidArgumentError(`request body is too large: ${declared} bytes, the limit is ${limit}`);
  }
  // Read by events, not for-await: leaving a for-await loop early would destroy the socket the
  // 400 has to go out on.
  const { chunks, size } = await new Promise<{ chunks: Buffer[]; size: number }>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      // Over the limit: let go of what was kept at once. The 400 waits for the end of the body, as
      // answering first would make node:http close the connection under a client still sending.
      else chunks.length = 0;
    });
    req.once('end', () => (size > limit ? reject(new InvalidArgumentError(`request body is too large: over ${limit} bytes`)) : resolve({ chunks, size })));
    req.once('error', reject);
  });
  return parseJsonText(Buffer.concat(chunks, size).toString('utf8'));
}

/** A JSON body's value; undefined when it is blank. Bad or too deeply nested JSON is a 400. */
export function parseJsonText(text: string): unknown {
  if (text.trim() === '') return undefined;
  checkNesting(text, MAX_NESTING);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidArgumentError(`invalid JSON in request body: ${(err as Error).message}`);
  }
}
