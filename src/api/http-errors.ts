/**
 * The one place that knows HTTP status codes: every error that leaves a route becomes a status
 * and Docker's body `{"message": "..."}`.
 */
import { isBerthError, type ErrorKind } from '../lib/errors.js';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  InvalidArgument: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  FailedPrecondition: 412,
  NotModified: 304,
  Internal: 500,
  NotImplemented: 501,
  Unavailable: 503,
};

export interface HttpError {
  status: number;
  message: string;
}

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message: string;
  validation?: unknown;
}

/** Maps an error to Docker's status and message; unknown errors are 500 with their text. */
export function toHttpError(err: unknown): HttpError {
  if (isBerthError(err)) return { status: STATUS_BY_KIND[err.kind], message: err.message };
  const framework = err as FrameworkError;
  switch (framework?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 400, message: `request body is too large: ${framework.message}` };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, message: `invalid JSON in request body: ${framework.message}` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 400, message: framework.message };
    case 'FST_ERR_VALIDATION':
      return { status: 400, message: framework.message };
  }
  if (err instanceof SyntaxError) return { status: 400, message: `invalid JSON in request body: ${err.message}` };
  if (framework?.statusCode && framework.statusCode >= 400 && framework.statusCode < 500) {
    return { status: 400, message: framework.message };
  }
  return { status: 500, message: err instanceof Error ? err.message : String(err) };
}

export function errorBody(message: string): string {
  return JSON.stringify({ message });
}
