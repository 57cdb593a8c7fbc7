/**
 * JSON request bodies: read whole up to a limit and parsed. Other bodies (tars for import, load,
 * build and docker cp) are not read here; the route streams them from the request itself.
 */
import type { IncomingMessage } from 'node:http';
import { InvalidArgumentError } from '../lib/errors.js';

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
    });
    req.once('end', () => (size > limit ? reject(new InvalidArgumentError(`request body is too large: over ${limit} bytes`)) : resolve({ chunks, size })));
    req.once('error', reject);
  });
  const text = Buffer.concat(chunks, size).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidArgumentError(`invalid JSON in request body: ${(err as Error).message}`);
  }
}
