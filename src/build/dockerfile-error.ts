/** A Dockerfile that cannot be parsed or run as written; the message names the line when known. */
import { InvalidArgumentError } from '../lib/errors.js';

export class DockerfileError extends InvalidArgumentError {
  constructor(message: string) {
    super(message, { code: 'BERTH_DOCKERFILE' });
  }

  /** The same error with "Dockerfile parse error line N: " in front, as Docker words it. */
  static atLine(line: number, err: unknown): DockerfileError {
    const message = err instanceof Error ? err.message : String(err);
    return new DockerfileError(`Dockerfile parse error line ${line}: ${message}`);
  }
}
