/** Opens a file the user named for upload, failing with docker's words before any request. */
import { createReadStream, type ReadStream } from 'node:fs';
import { CliError } from './cli-errors.js';

export function openInputFile(path: string): Promise<ReadStream> {
  const stream = createReadStream(path);
  return new Promise((resolve, reject) => {
    stream.once('open', () => resolve(stream));
    stream.once('error', (err: NodeJS.ErrnoException) => reject(new CliError(`open ${path}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`, 1)));
  });
}
