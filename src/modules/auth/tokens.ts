import { createHash, randomBytes } from 'node:crypto';

/** Refresh and reset tokens: 256 random bits for the client, only their SHA-256 in the database. */
export function newSecret(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: sha256(token) };
}

export function sha256(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
