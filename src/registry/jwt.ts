/** Compact JWS (JWT) signing and verification with RS256 or ES256, on node:crypto keys. */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export interface JwtClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: { type: string; name: string; actions: string[] }[];
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export function algorithmFor(key: KeyObject): 'RS256' | 'ES256' {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return 'RS256';
  if (type === 'ec') return 'ES256';
  throw new Error(`unsupported token key type ${type ?? 'unknown'}: use an RSA or P-256 EC key`);
}

/** Docker's libtrust key ID: the SHA-256 of the DER public key, 240 bits in 12 base32 groups. */
export function libtrustKeyId(key: KeyObject): string {
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const hash = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of hash) bits += byte.toString(2).padStart(8, '0');
  let encoded = '';
  for (let i = 0; i < bits.length; i += 5) encoded += alphabet[Number.parseInt(bits.slice(i, i + 5), 2)];
  return encoded.match(/.{4}/g)!.join(':');
}

export function signJwt(claims: JwtClaims, privateKey: KeyObject): string {
  const alg = algorithmFor(privateKey);
  const header = b64url(JSON.stringify({ typ: 'JWT', alg, kid: libtrustKeyId(privateKey) }));
  const payload = b64url(JSON.stringify(claims));
  const input = `${header}.${payload}`;
  const signature = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey);
  return `${input}.${b64url(signature)}`;
}

/** The claims (unchecked JSON) of a token whose signature `publicKey` verifies; undefined otherwise. */
export function verifyJwt(token: string, publicKey: KeyObject): unknown {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  let alg: string;
  try {
    alg = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string }).alg ?? '';
  } catch {
    return undefined;
  }
  if (alg !== algorithmFor(publicKey)) return undefined;
  const ok = verify('sha256', Buffer.from(`${header}.${payload}`), alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey, Buffer.from(signature, 'base64url'));
  if (!ok) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString()) as unknown;
  } catch {
    return undefined;
  }
}
