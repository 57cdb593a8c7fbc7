/**
 * A client for one registry host (OCI Distribution / Docker Registry v2) over fetch: the
 * WWW-Authenticate challenge, Bearer tokens (cached per scope until they expire) and Basic auth,
 * plain HTTP for insecure registries, and registry errors in Docker's words.
 */
import { FailedPreconditionError, ForbiddenError, NotFoundError, UnavailableError, InvalidArgumentError } from '../lib/errors.js';

/**
 * The registry refused our credentials (or we had none). Not a 401 from the engine: the docker CLI
 * answers a 401 from pull or push by prompting for a login, which hangs scripts; dockerd answers
 * these with other statuses too.
 */
export class RegistryAuthError extends ForbiddenError {}
import type { AuthConfig } from './auth-config.js';
import type { RegistryEndpoint } from './registry-hosts.js';

interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const match = /^(\w+)\s*(.*)$/s.exec(header.trim());
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  for (const m of match[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

export interface RequestInit2 {
  scope?: string;
  headers?: Record<string, string>;
  body?: RequestInit['body'] | NodeJS.ReadableStream;
  /** Do not follow redirects automatically (blob uploads want Location). */
  raw?: boolean;
}

export class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class RegistryClient {
  private scheme?: 'https' | 'http';
  private sendBasicAlways = false;
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    readonly endpoint: RegistryEndpoint,
    private readonly auth: AuthConfig | undefined,
    private readonly userAgent: string,
    private readonly nowMs: () => number,
  ) {}

  baseUrl(): string {
    return `${this.scheme ?? 'https'}://${this.endpoint.host}`;
  }

  private async send(method: string, url: string, init: RequestInit2, authorization?: string): Promise<Response> {
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...init.headers };
    if (authorization) headers['Authorization'] = authorization;
    const body = init.body as RequestInit['body'];
    const streamed = body instanceof ReadableStream || (body && typeof (body as { pipe?: unknown }).pipe === 'function');
    return fetch(url, { method, headers, body, redirect: 'follow', ...(streamed ? { duplex: 'half' } : {}) } as RequestInit);
  }

  /** Absolute URL for a path, deciding http or https on first contact for insecure registries. */
  private async url(path: string): Promise<string> {
    if (/^https?:\/\//.test(path)) return path;
    if (!this.scheme) {
      if (!this.endpoint.insecure) {
        this.scheme = 'https';
      } else {
        try {
          await fetch(`https://${this.endpoint.host}/v2/`, { method: 'GET', signal: AbortSignal.timeout(3000) });
          this.scheme = 'https';
        } catch {
          this.scheme = 'http';
        }
      }
    }
    return `${this.scheme}://${this.endpoint.host}${path}`;
  }

  private basicHeader(): string | undefined {
    if (!this.auth?.username) return undefined;
    return `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password ?? ''}`).toString('base64')}`;
  }

  private cachedAuthorization(scope: string): string | undefined {
    const cached = this.tokens.get(scope);
    if (cached && cached.expiresAt > this.nowMs()) return `Bearer ${cached.token}`;
    return undefined;
  }

  private async fetchToken(challenge: Challenge, scope: string | undefined): Promise<string> {
    const realm = challenge.params['realm'];
    if (!realm) throw new RegistryAuthError('registry asked for a bearer token but named no realm');
    const url = new URL(realm);
    if (challenge.params['service']) url.searchParams.set('service', challenge.params['service']);
    const wanted = scope ?? challenge.params['scope'];
    if (wanted) url.searchParams.set('scope', wanted);
    if (this.auth?.username) url.searchParams.set('account', this.auth.username);
    const headers: Record<string, string> = { 'User-Agent': this.userAgent };
    const basic = this.basicHeader();
    if (basic) headers['Authorization'] = basic;
    let response: Response;
    try {
      response = await fetch(url, { headers });
    } catch (err) {
      throw new UnavailableError(`cannot reach the token service ${url.origin}: ${(err as Error).message}`);
    }
    if (response.status === 401) throw new RegistryAuthError('unauthorized: incorrect username or password');
    if (!response.ok) throw new RegistryAuthError(`token service ${url.origin} answered ${response.status}`);
    const body = (await response.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryAuthError('token service returned no token');
    // Refresh a little early so a token never expires mid-request.
    this.tokens.set(scope ?? '', { token, expiresAt: this.nowMs() + Math.max(30, (body.expires_in ?? 60) - 10) * 1000 });
    return token;
  }

  /**
   * A request with authentication handled: on 401 it answers the challenge and retries once.
   * Bodies that are streams cannot be sent twice, so callers authenticate first (ensureAuth).
   */
  async request(method: string, path: string, init: RequestInit2 = {}): Promise<Response> {
    const url = await this.url(path);
    let response: Response;
    try {
      response = await this.send(method, url, init, this.authorizationFor(init.scope ?? ''));
    } catch (err) {
      throw new UnavailableError(`${method} ${JSON.stringify(url)}: ${(err as Error).cause ? String((err as Error & { cause: Error }).cause.message) : (err as Error).message}`);
    }
    if (response.status !== 401) return response;
    const challenge = parseChallenge(response.headers.get('www-authenticate'));
    await response.body?.cancel();
    if (!challenge) throw new RegistryAuthError(`${method} ${JSON.stringify(url)}: unauthorized`);
    let authorization: string;
    if (challenge.scheme === 'basic') {
      const basic = this.basicHeader();
      if (!basic) throw new RegistryAuthError(`${methodName(method)} ${JSON.stringify(url)}: no basic auth credentials`);
      authorization = basic;
    } else {
      authorization = `Bearer ${await this.fetchToken(challenge, init.scope)}`;
    }
    if (init.body && typeof (init.body as { pipe?: unknown }).pipe === 'function') {
      throw new RegistryAuthError(`${method} ${JSON.stringify(url)}: unauthorized (authenticate before streaming a body)`);
    }
    const retried = await this.send(method, url, init, authorization);
    if (retried.status === 401) {
      await retried.body?.cancel();
      throw new RegistryAuthError('unauthorized: authentication required');
    }
    // A registry that asked for Basic once gets the credentials on every request from now on.
    if (challenge.scheme === 'basic') this.sendBasicAlways = true;
    return retried;
  }

  /** Makes sure later requests for `scope` carry credentials (before streaming uploads). */
  async ensureAuth(scope: string, repo: string): Promise<void> {
    const response = await this.request('GET', `/v2/${repo}/tags/list?n=0`, { scope });
    await response.body?.cancel();
  }

  /** Authorization for requests whose body cannot be replayed. */
  authorizationFor(scope: string): string | undefined {
    return this.cachedAuthorization(scope) ?? (this.sendBasicAlways ? this.basicHeader() : undefined);
  }

  async sendWithAuth(method: string, path: string, init: RequestInit2): Promise<Response> {
    const url = await this.url(path);
    return this.send(method, url, init, this.authorizationFor(init.scope ?? ''));
  }

  /** Raises a registry error body as Docker words it ("manifest unknown: manifest unknown"). */
  static async errorFrom(response: Response, what: string): Promise<Error> {
    let detail = '';
    let code = '';
    try {
      const body = (await response.json()) as { errors?: { code?: string; message?: string }[] };
      const first = body.errors?.[0];
      if (first) {
        code = first.code ?? '';
        detail = `${(first.code ?? '').toLowerCase()}: ${first.message ?? ''}`;
      }
    } catch {
      detail = response.statusText;
    }
    const message = `${what}: ${detail || `status ${response.status}`}`;
    if (response.status === 404) return new NotFoundError(message);
    if (response.status === 401 || response.status === 403) return new RegistryAuthError(message);
    if (response.status === 400 && code === 'MANIFEST_INVALID') return new InvalidArgumentError(message);
    if (response.status >= 500) return new UnavailableError(message);
    return new FailedPreconditionError(message);
  }
}

function methodName(method: string): string {
  return method.charAt(0) + method.slice(1).toLowerCase();
}
