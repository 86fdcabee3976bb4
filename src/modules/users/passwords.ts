import { hash, verify } from '@node-rs/argon2';

/** argon2id at OWASP's recommended floor (19 MiB, 2 passes, 1 lane); docs/security.md gives the measured cost. */
// algorithm 2 is Algorithm.Argon2id, a const enum that verbatimModuleSyntax cannot import.
export const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export function verifyPassword(hashed: string, password: string): Promise<boolean> {
  return verify(hashed, password).catch(() => false);
}
