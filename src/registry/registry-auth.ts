/**
 * Who may do what: no auth, htpasswd Basic, or Bearer tokens (from the built-in /token endpoint
 * or an external issuer whose public key the registry holds). Anonymous pull can be allowed.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { RegistryError } from './registry-errors.js';
import { signJwt, verifyJwt, type JwtClaims } from './jwt.js';
import type { HtpasswdChecker } from './htpasswd-checker.js';
import { checkClaims, TOKEN_LIFETIME_SECONDS } from './token-claims.js';

export type Action = 'pull' | 'push' | 'delete' | '*';

/** What one request needs: an action on a repository, or the catalog. */
export type Need = { type: 'repository'; name: string; actions: Action[] } | { type: 'registry'; name: 'catalog'; actions: Action[] } | { type: 'none' };

export interface TokenOptions {
  realm: string;
  issuer: string;
  service: string;
  /** PEM file: a private key (berth issues tokens at /token) or a public key/certificate (external issuer). */
  keyFile: string;
}

export interface AuthOptions {
  /** Checks htpasswd credentials; Basic auth is on when it is given. */
  htpasswd?: HtpasswdChecker;
  token?: TokenOptions;
  anonymousPull: boolean;
}

export interface Grant {
  type: string;
  name: string;
  actions: string[];
}

/** What a request's caller has: asked again for further needs (a mount's source repository). */
export interface Access {
  allows(need: Need): boolean;
}

/** The parts of a request auth looks at. */
export interface Caller {
  authorization: string | undefined;
  /** The client's address: failed logins are limited per address. */
  address: string;
}

const pullOnly = (need: Need) => need.type === 'repository' && need.actions.every((a) => a === 'pull');
const EVERYTHING: Access = { allows: () => true };
const ANONYMOUS_PULL: Access = { allows: pullOnly };

export function grantsAllow(grants: Grant[], need: Need): boolean {
  if (need.type === 'none') return true;
  const granted = grants.find((a) => a.type === need.type && a.name === need.name);
  return !!granted && need.actions.every((action) => granted.actions.includes(action) || granted.actions.includes('*'));
}

export class RegistryAuth {
  private readonly signingKey?: KeyObject;
  private readonly verifyKey?: KeyObject;

  constructor(
    private readonly options: AuthOptions,
    private readonly clock: Clock,
  ) {
    if (options.token) {
      const pem = readFileSync(options.token.keyFile, 'utf8');
      if (/PRIVATE KEY/.test(pem)) {
        this.signingKey = createPrivateKey(pem);
        this.verifyKey = createPublicKey(this.signingKey);
      } else {
        this.verifyKey = createPublicKey(pem);
      }
    }
  }

  get mode(): 'none' | 'basic' | 'token' {
    return this.options.token ? 'token' : this.options.htpasswd ? 'basic' : 'none';
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.nowMs() / 1000);
  }

  private basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
    const match = /^Basic\s+(.+)$/i.exec(header ?? '');
    if (!match) return undefined;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }

  private async checkPassword(credentials: { user: string; password: string }, address: string): Promise<boolean> {
    return !!this.options.htpasswd && (await this.options.htpasswd.check(credentials.user, credentials.password, address));
  }

  private challenge(need: Need, error?: 'invalid_token' | 'insufficient_scope'): Record<string, string> {
    if (this.mode === 'basic') return { 'WWW-Authenticate': 'Basic realm="berth-registry"' };
    const token = this.options.token!;
    const scope = need.type === 'none' ? '' : `,scope="${need.type}:${need.name}:${need.actions.join(',')}"`;
    return { 'WWW-Authenticate': `Bearer realm="${token.realm}",service="${token.service}"${scope}${error ? `,error="${error}"` : ''}` };
  }

  /** What the caller may do; throws UNAUTHORIZED (with a challenge) unless `need` is among it. */
  async authorize(caller: Caller, need: Need): Promise<Access> {
    if (this.mode === 'none') return EVERYTHING;
    if (this.mode === 'basic') {
      const credentials = this.basicCredentials(caller.authorization);
      if (credentials && (await this.checkPassword(credentials, caller.address))) return EVERYTHING;
      if (!caller.authorization && pullOnly(need) && this.options.anonymousPull) return ANONYMOUS_PULL;
      throw new RegistryError('UNAUTHORIZED', credentials ? 'invalid username or password' : undefined, undefined, this.challenge(need));
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(caller.authorization ?? '')?.[1];
    if (!bearer) {
      if (pullOnly(need) && this.options.anonymousPull) return ANONYMOUS_PULL;
      throw new RegistryError('UNAUTHORIZED', undefined, undefined, this.challenge(need));
    }
    const token = this.options.token!;
    const claims = checkClaims(verifyJwt(bearer, this.verifyKey!), { issuer: token.issuer, service: token.service, now: this.nowSeconds() });
    if (!claims.ok) throw new RegistryError('UNAUTHORIZED', claims.reason, undefined, this.challenge(need, 'invalid_token'));
    const access: Access = { allows: (n) => grantsAllow(claims.access, n) };
    // As distribution does: 401 with error="insufficient_scope", so clients ask for a new token.
    if (!access.allows(need)) throw new RegistryError('UNAUTHORIZED', 'insufficient scope', undefined, this.challenge(need, 'insufficient_scope'));
    return access;
  }

  /**
   * The built-in token endpoint (GET /token?service=&scope=...): Basic credentials from htpasswd
   * get what they ask for; anonymous callers get pull where anonymous pull is on.
   */
  async issueToken(caller: Caller, service: string | undefined, scopes: string[]): Promise<{ token: string; access_token: string; expires_in: number; issued_at: string }> {
    const token = this.options.token;
    if (!token || !this.signingKey) throw new RegistryError('UNSUPPORTED', 'this registry does not issue tokens');
    if (service && service !== token.service) throw new RegistryError('DENIED', `unknown service ${service}`);
    const credentials = this.basicCredentials(caller.authorization);
    let subject = '';
    if (credentials) {
      if (!(await this.checkPassword(credentials, caller.address))) {
        throw new RegistryError('UNAUTHORIZED', 'invalid username or password', undefined, { 'WWW-Authenticate': 'Basic realm="berth-registry-token"' });
      }
      subject = credentials.user;
    }
    const access: Grant[] = [];
    for (const scope of scopes) {
      const match = /^([a-z()]+):(.+):([a-z*,]+)$/.exec(scope);
      if (!match) continue;
      const [, type, name, actionList] = match;
      const wanted = actionList!.split(',');
      const allowed = subject ? wanted : wanted.filter((a) => a === 'pull' && this.options.anonymousPull);
      if (allowed.length) access.push({ type: type!, name: name!, actions: allowed });
    }
    const now = this.nowSeconds();
    const claims: JwtClaims = { iss: token.issuer, sub: subject, aud: token.service, exp: now + TOKEN_LIFETIME_SECONDS, nbf: now - 1, iat: now, jti: randomUUID(), access };
    const jwt = signJwt(claims, this.signingKey);
    return { token: jwt, access_token: jwt, expires_in: TOKEN_LIFETIME_SECONDS, issued_at: new Date(now * 1000).toISOString() };
  }

  close(): Promise<void> {
    return this.options.htpasswd?.close() ?? Promise.resolve();
  }
}
