/**
 * Whether a verified token's claims hold now: issuer, audience, and a lifetime the token must
 * state (a token without `exp` would never expire, so it is refused). `nbf` gets 60 s of leeway for
 * clock skew between an issuer and the registry; `exp` none, so a token is dead when it says.
 */
import type { Grant } from './registry-auth.js';

export const TOKEN_LIFETIME_SECONDS = 300;
export const CLOCK_LEEWAY_SECONDS = 60;

export type ClaimsCheck = { ok: true; subject: string; access: Grant[] } | { ok: false; reason: string };

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function grantsOf(value: unknown): Grant[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return undefined;
  const grants: Grant[] = [];
  for (const entry of value as unknown[]) {
    const grant = entry as Partial<Grant> | null;
    if (!grant || typeof grant.type !== 'string' || typeof grant.name !== 'string' || !Array.isArray(grant.actions) || !grant.actions.every((a) => typeof a === 'string')) return undefined;
    grants.push({ type: grant.type, name: grant.name, actions: grant.actions });
  }
  return grants;
}

export function checkClaims(claims: unknown, expected: { issuer: string; service: string; now: number }): ClaimsCheck {
  if (!claims || typeof claims !== 'object') return { ok: false, reason: 'invalid token' };
  const c = claims as Record<string, unknown>;
  const audiences = Array.isArray(c['aud']) ? (c['aud'] as unknown[]) : [c['aud']];
  if (c['iss'] !== expected.issuer || !audiences.includes(expected.service)) return { ok: false, reason: 'invalid token: wrong issuer or audience' };
  if (!isTime(c['exp'])) return { ok: false, reason: 'invalid token: no expiry' };
  if (expected.now >= c['exp']) return { ok: false, reason: 'token expired' };
  if (c['nbf'] !== undefined && (!isTime(c['nbf']) || c['nbf'] > expected.now + CLOCK_LEEWAY_SECONDS)) return { ok: false, reason: 'token not valid yet' };
  if (c['iat'] !== undefined && !isTime(c['iat'])) return { ok: false, reason: 'invalid token: bad issue time' };
  const access = grantsOf(c['access']);
  if (!access) return { ok: false, reason: 'invalid token: bad access claim' };
  return { ok: true, subject: typeof c['sub'] === 'string' ? c['sub'] : '', access };
}
