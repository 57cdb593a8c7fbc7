/**
 * Log rotation, on by default so a container's output cannot fill the disk: when ctr.log passes
 * max-size, berthd shifts ctr.log.(N-1) -> ctr.log.N ... ctr.log -> ctr.log.1 and asks conmon to
 * reopen its log (control message 2), keeping max-file files in all. Checked once a second, so a
 * file can pass max-size by what is written in that second. conmon's own --log-size-max is not used:
 * its count spans reopens, so it would truncate a current file berthd had not rotated yet.
 */
import { parseByteSize } from '../lib/human-units.js';
import { rename, rm, stat } from 'node:fs/promises';
import { InvalidArgumentError } from '../lib/errors.js';

export interface LogRotationOptions {
  maxSizeBytes: number;
  maxFiles: number;
}

/** Docker's local-driver defaults: 20 MB, 5 files. */
export const DEFAULT_LOG_ROTATION: LogRotationOptions = { maxSizeBytes: 20 * 1024 * 1024, maxFiles: 5 };

function parseSize(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new InvalidArgumentError(`invalid value for log-opt max-size: ${text}`);
  return bytes;
}

/** HostConfig.LogConfig into rotation options (json-file, local and k8s-file are all kept as k8s-file). */
export function rotationOf(logConfig: { Type?: string; Config?: Record<string, string> | null } | undefined, defaults: LogRotationOptions = DEFAULT_LOG_ROTATION): LogRotationOptions {
  const type = logConfig?.Type ?? '';
  if (!['', 'json-file', 'local', 'k8s-file'].includes(type)) throw new InvalidArgumentError(`not supported by berth yet: log driver ${type}`);
  const config = logConfig?.Config ?? {};
  for (const key of Object.keys(config)) {
    if (!['max-size', 'max-file', 'compress', 'mode', 'max-buffer-size'].includes(key)) throw new InvalidArgumentError(`unknown log opt '${key}' for ${type || 'json-file'} log driver`);
  }
  const maxSizeBytes = config['max-size'] ? parseSize(config['max-size']) : defaults.maxSizeBytes;
  const maxFiles = config['max-file'] ? Number(config['max-file']) : defaults.maxFiles;
  if (!Number.isInteger(maxFiles) || maxFiles < 1) throw new InvalidArgumentError(`invalid value for log-opt max-file: ${config['max-file']}: must be a positive integer`);
  if (maxSizeBytes < 1) throw new InvalidArgumentError('invalid value for log-opt max-size: must be positive');
  return { maxSizeBytes, maxFiles };
}

/** The log's files, oldest first: ctr.log.N ... ctr.log.1, ctr.log. */
export function logFiles(path: string, maxFiles: number): string[] {
  const files: string[] = [];
  for (let i = maxFiles - 1; i >= 1; i--) files.push(`${path}.${i}`);
  files.push(path);
  return files;
}

/** Rotates when the log is over its size; returns whether it did (then conmon must reopen). */
export async function rotateIfNeeded(path: string, options: LogRotationOptions): Promise<boolean> {
  const size = await stat(path).then((s) => s.size, () => 0);
  if (size < options.maxSizeBytes) return false;
  if (options.maxFiles <= 1) {
    await rename(path, `${path}.old`);
    await rm(`${path}.old`, { force: true });
    return true;
  }
  await rm(`${path}.${options.maxFiles - 1}`, { force: true });
  for (let i = options.maxFiles - 2; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
  await rename(path, `${path}.1`);
  return true;
}
