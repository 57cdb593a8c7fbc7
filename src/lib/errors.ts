/**
 * The closed set of error kinds berth uses everywhere. Each front end maps a kind to its own
 * vocabulary in exactly one place: api/http-errors.ts (HTTP status), cli/exit-codes.ts (exit code).
 */
export const ERROR_KINDS = [
  'NotFound',
  'InvalidArgument',
  'Conflict',
  'FailedPrecondition',
  'Unauthorized',
  'Forbidden',
  'NotModified',
  'NotImplemented',
  'Unavailable',
  'Internal',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Base class of every error berth raises on purpose; `code` is stable and machine-readable. */
export class BerthError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;

  constructor(kind: ErrorKind, message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = `${kind}Error`;
    this.kind = kind;
    this.code = options.code ?? `BERTH_${kind.replace(/[A-Z]/g, (c, i: number) => (i ? '_' : '') + c).toUpperCase()}`;
  }
}

type ErrorOptions = { code?: string; cause?: unknown };

export class NotFoundError extends BerthError {
  constructor(message: string, options?: ErrorOptions) { super('NotFound', message, options); }
}
export class InvalidArgumentError extends BerthError {
  constructor(message: string, options?: ErrorOptions) { super('InvalidArgument', message, options); }
}
export class ConflictError extends BerthError {
  constructor(message: string, options?: ErrorOptions) { super('Conflict', message, options); }
}
export class FailedPreconditionError extends BerthError {
  constructor(message: string, options?: ErrorOptions) { super('FailedPrecondition', message, options); }
}
export class UnauthorizedError extends BerthError {
  constructor(message: string, options?: ErrorOptions) { super('Unauthorized', message, options); }
}
export class ForbiddenError extends BerthError {
  constructor(message: string, options?: ErrorOptions) { super('Forbidden', message, options); }
}
export class NotModifiedError extends BerthError {
  constructor(message: string, options?: ErrorOptions) { super('NotModified', message, options); }
}
export class NotImplementedError extends BerthError {
  constructor(message: string, options?: ErrorOptions) { super('NotImplemented', message, options); }
}
export class UnavailableError extends BerthError {
  constructor(message: string, options?: ErrorOptions) { super('Unavailable', message, options); }
}
export class InternalError extends BerthError {
  constructor(message: string, options?: ErrorOptions) { super('Internal', message, options); }
}

export function isBerthError(err: unknown): err is BerthError {
  return err instanceof BerthError;
}

/** Node's errno code of a system error, if it is one (ENOENT, EEXIST, ...). */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
