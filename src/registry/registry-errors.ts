/**
 * The OCI Distribution error codes and the one place that maps each to its HTTP status and body
 * `{"errors":[{"code","message","detail"}]}`.
 */
export const REGISTRY_ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  RANGE_INVALID: { status: 416, message: 'requested range not satisfiable' },
  MANIFEST_TOO_LARGE: { status: 413, message: 'manifest too large' },
} as const;

export type RegistryErrorCode = keyof typeof REGISTRY_ERROR_CODES;

export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message?: string,
    readonly detail?: unknown,
    /** Extra response headers (a challenge, a Range). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? REGISTRY_ERROR_CODES[code].message);
  }

  get status(): number {
    return REGISTRY_ERROR_CODES[this.code].status;
  }
}

/** The response for any error; unknown errors are 500 without internals in the body. */
export function registryErrorResponse(err: unknown): { status: number; headers: Record<string, string>; body: string } {
  if (err instanceof RegistryError) {
    // 413 and 416 are not spec codes; the body still carries the closest spec code.
    const code = err.code === 'MANIFEST_TOO_LARGE' ? 'SIZE_INVALID' : err.code === 'RANGE_INVALID' ? 'BLOB_UPLOAD_INVALID' : err.code;
    return {
      status: err.status,
      headers: err.headers,
      body: JSON.stringify({ errors: [{ code, message: err.message, detail: err.detail ?? null }] }),
    };
  }
  return { status: 500, headers: {}, body: JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'internal error', detail: null }] }) };
}
