import assert from 'node:assert/strict';
import type { HttpServer } from '../../src/platform/http/server.js';

export interface SignedUp {
  user: { id: number; username: string; email: string; role: string };
  access: string;
  refresh: string;
  password: string;
}

let counter = 0;

/** Registers a fresh customer through the API (real argon2 hash) and returns its session. */
export async function signUp(
  app: HttpServer,
  fields: { username?: string; email?: string; password?: string } = {},
): Promise<SignedUp> {
  counter += 1;
  const name = `u${process.pid}x${counter}x${Math.random().toString(36).slice(2, 7)}`;
  const password = fields.password ?? 'a long enough password';
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/register/',
    payload: { username: fields.username ?? name, email: fields.email ?? `${name}@example.com`, password },
  });
  assert.equal(res.statusCode, 201, res.body);
  return { ...res.json(), password };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
