/**
 * Who may do what: no auth, htpasswd Basic, or Bearer tokens (from the built-in /token endpoint
 * or an external issuer whose public key the registry holds). Anonymous pull can be allowed.
 */
import { readFileSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { RegistryError } from './registry-errors.js';
import { signJwt, verifyJwt, type JwtClaims } from './jwt.js';

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
  htpasswdFile?: string;
  token?: TokenOptions;
  anonymousPull: boolean;
}

export interface Grant {
  type: string;
  name: string;
  actions: string[];
}

export class RegistryAuth {
  private readonly users = new Map<string, string>();
  /** sha256(user:password) of credentials bcrypt already accepted: bcrypt costs ~100 ms each. */
  private readonly verified = new Set<string>();
  private readonly signingKey?: KeyObject;
  private readonly verifyKey?: KeyObject;

  constructor(private readonly options: AuthOptions, private readonly nowSeconds: () => number) {
    if (options.htpasswdFile) {
      for (const line of readFileSync(options.htpasswdFile, 'utf8').split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const hash = line.slice(colon + 1).trim();
        if (!/^\$2[aby]\$/.test(hash)) throw new Error(`htpasswd entry for ${line.slice(0, colon)} is not bcrypt (use htpasswd -B)`);
        this.users.set(line.slice(0, colon), hash);
      }
    }
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
    return this.options.token ? 'token' : this.options.htpasswdFile ? 'basic' : 'none';
  }

  /** Checks htpasswd credentials; true when they match. */
  checkPassword(user: string, password: string): boolean {
    const key = createHash('sha256').update(`${user}\0${password}`).digest('hex');
    if (this.verified.has(key)) return true;
    const hash = this.users.get(user);
    if (!hash || !bcrypt.compareSync(password, hash)) return false;
    this.verified.add(key);
    return true;
  }

  private basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
    const match = /^Basic\s+(.+)$/i.exec(header ?? '');
    if (!match) return undefined;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }

  private challenge(need: Need): Record<string, string> {
    if (this.mode === 'basic') return { 'WWW-Authenticate': 'Basic realm="berth-registry"' };
    const token = this.options.token!;
    const scope = need.type === 'none' ? '' : `,scope="${need.type}:${need.name}:${need.actions.join(',')}"`;
    return { 'WWW-Authenticate': `Bearer realm="${token.realm}",service="${token.service}"${scope}` };
  }

  /** Throws UNAUTHORIZED (with a challenge) or DENIED unless the request may go ahead. */
  authorize(authorization: string | undefined, need: Need): void {
    if (this.mode === 'none') return;
    const pullOnly = need.type === 'repository' && need.actions.every((a) => a === 'pull');
    if (this.mode === 'basic') {
      const credentials = this.basicCredentials(authorization);
      if (credentials && this.checkPassword(credentials.user, credentials.password)) return;
      if (!authorization && pullOnly && this.options.anonymousPull) return;
      throw new RegistryError('UNAUTHORIZED', credentials ? 'invalid username or password' : undefined, undefined, this.challenge(need));
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!bearer) {
      if (pullOnly && this.options.anonymousPull) return;
      throw new RegistryError('UNAUTHORIZED', undefined, undefined, this.challenge(need));
    }
    const claims = verifyJwt(bearer, this.verifyKey!);
    const now = this.nowSeconds();
    const token = this.options.token!;
    if (!claims || claims.iss !== token.issuer || claims.aud !== token.service || claims.exp < now || claims.nbf > now + 60) {
      throw new RegistryError('UNAUTHORIZED', 'invalid or expired token', undefined, this.challenge(need));
    }
    if (need.type === 'none') return;
    const granted = claims.access.find((a) => a.type === need.type && a.name === need.name);
    const ok = granted && need.actions.every((action) => granted.actions.includes(action) || granted.actions.includes('*'));
    if (!ok) {
      // As distribution does: 401 with error="insufficient_scope", so clients ask for a new token.
      const challenge = this.challenge(need);
      throw new RegistryError('UNAUTHORIZED', 'insufficient scope', undefined, { 'WWW-Authenticate': `${challenge['WWW-Authenticate']},error="insufficient_scope"` });
    }
  }

  /**
   * The built-in token endpoint (GET /token?service=&scope=...): Basic credentials from htpasswd
   * get what they ask for; anonymous callers get pull where anonymous pull is on.
   */
  issueToken(authorization: string | undefined, service: string | undefined, scopes: string[]): { token: string; access_token: string; expires_in: number; issued_at: string } {
    const token = this.options.token;
    if (!token || !this.signingKey) throw new RegistryError('UNSUPPORTED', 'this registry does not issue tokens');
    if (service && service !== token.service) throw new RegistryError('DENIED', `unknown service ${service}`);
    const credentials = this.basicCredentials(authorization);
    let subject = '';
    if (credentials) {
      if (!this.checkPassword(credentials.user, credentials.password)) {
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
    const claims: JwtClaims = { iss: token.issuer, sub: subject, aud: token.service, exp: now + 300, nbf: now - 1, iat: now, jti: randomUUID(), access };
    const jwt = signJwt(claims, this.signingKey);
    return { token: jwt, access_token: jwt, expires_in: 300, issued_at: new Date(now * 1000).toISOString() };
  }
}
