/**
 * Errors the CLI prints and the exit code each gives, as docker's: 125 for flag and daemon
 * errors where docker uses it, 1 for other failures, the container's own code otherwise.
 */
import { isBerthError } from '../lib/errors.js';
import { FlagError } from '../lib/flag-parser.js';

/** An error that already carries the text to print and the exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The daemon answered with an error status and Docker's `{"message"}` body. */
export class DaemonError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Nobody answered at the daemon's address. */
export class CannotConnectError extends Error {}

export interface ExitReport {
  text: string;
  exitCode: number;
}

/** Turns any error into what the CLI prints on stderr and its exit code. */
export function toExitReport(err: unknown, commandPath: string): ExitReport {
  if (err instanceof CliError) return { text: err.message, exitCode: err.exitCode };
  if (err instanceof FlagError) return { text: `${err.message}\nSee '${commandPath} --help'.`, exitCode: 125 };
  if (err instanceof DaemonError) return { text: `Error response from daemon: ${err.message}`, exitCode: 1 };
  if (err instanceof CannotConnectError) return { text: err.message, exitCode: 1 };
  if (isBerthError(err)) return { text: err.message, exitCode: err.kind === 'InvalidArgument' ? 125 : 1 };
  return { text: err instanceof Error ? err.message : String(err), exitCode: 1 };
}
