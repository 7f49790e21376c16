// API keys: how they are made, how they are stored, what they may do.
//
// A key is `ty_<prefix>_<secret>`: the prefix (8 base64url characters, 48 random
// bits) is shown in listings and the audit log so people can tell keys apart; the
// secret is 32 random bytes (256 bits, base64url). Only sha256(key) is stored.
//
// Why SHA-256 and not a slow KDF (bcrypt, scrypt, argon2): a slow KDF protects
// *guessable* secrets (passwords) against an attacker holding the hashes, by making
// each guess expensive. A 256-bit random key cannot be guessed at any speed: finding
// a preimage of its SHA-256 is 2^256 work whether a guess costs a nanosecond or a
// second. A fast hash also keeps verification cheap on every request, so a flood of
// bad keys cannot turn the KDF's cost into a denial of service.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCOPES = ['read', 'submit', 'admin'] as const;
export type KeyScope = (typeof SCOPES)[number];

/** read ⊂ submit ⊂ admin (DESIGN.md): the rank a route needs at least. */
const RANK: Record<KeyScope, number> = { read: 1, submit: 2, admin: 3 };

export function hasScope(scopes: readonly KeyScope[], needed: KeyScope): boolean {
  return scopes.some((s) => RANK[s] >= RANK[needed]);
}

/** Stored as one space-separated string (OAuth's spelling), in the order of SCOPES. */
export function formatScopes(scopes: readonly KeyScope[]): string {
  return SCOPES.filter((s) => scopes.includes(s)).join(' ');
}

export function parseScopes(stored: string): KeyScope[] {
  return stored.split(' ').filter((s): s is KeyScope => (SCOPES as readonly string[]).includes(s));
}

export interface NewKey {
  /** the whole key: shown once, never stored */
  key: string;
  prefix: string;
  hash: string;
}

export function generateKey(): NewKey {
  const prefix = `ty_${randomBytes(6).toString('base64url')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashKey(key) };
}

/** hex SHA-256 of the key's UTF-8 bytes */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The visible prefix of a key that did not come from generateKey (TRAINYARD_ADMIN_KEY):
 * derived from its hash, so no character of the secret is shown.
 */
export function envKeyPrefix(hash: string): string {
  return `ty_env_${hash.slice(0, 8)}`;
}

/** Constant-time equality of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The key of an `Authorization: Bearer <key>` header, or null (missing, another scheme, empty). */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(header);
  return match ? match[1]! : null;
}
