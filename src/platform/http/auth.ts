import { createSigner, createVerifier } from 'fast-jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from './errors.js';

/**
 * Access tokens and roles. A route states the least role it needs in its definition:
 *   app.get('/api/orders/', { config: { auth: 'customer' } }, handler)
 * and this plugin answers 401 (no valid token) or 403 (role too low) before the handler runs, so handlers
 * hold no role checks. Tokens are HS256 JWTs valid 15 minutes; any other algorithm, `none` included, is refused.
 */

export const ROLES = ['customer', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface AuthUser {
  id: number;
  role: Role;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role the route needs; absent means public. */
    auth?: Role;
  }
  interface FastifyRequest {
    user: AuthUser | null;
  }
}

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

export interface AccessTokens {
  sign(user: AuthUser): string;
  verify(token: string): AuthUser;
}

export function createAccessTokens(secret: string): AccessTokens {
  const signer = createSigner({
    key: secret,
    algorithm: 'HS256',
    expiresIn: ACCESS_TOKEN_TTL_SECONDS * 1000,
  });
  const verifier = createVerifier({ key: secret, algorithms: ['HS256'], cache: 10_000 });
  return {
    sign: (user) => signer({ sub: String(user.id), role: user.role }),
    verify: (token) => {
      let claims: { sub?: unknown; role?: unknown };
      try {
        claims = verifier(token);
      } catch {
        throw new AppError('invalid_token', 'The access token is invalid or expired');
      }
      const id = Number(claims.sub);
      if (!Number.isSafeInteger(id) || id < 1 || !ROLES.includes(claims.role as Role)) {
        throw new AppError('invalid_token', 'The access token is invalid or expired');
      }
      return { id, role: claims.role as Role };
    },
  };
}

export function hasRole(user: AuthUser, needed: Role): boolean {
  return ROLES.indexOf(user.role) >= ROLES.indexOf(needed);
}

/** The caller of a route that declares `config: { auth }` (the plugin has already refused anyone else). */
export function currentUser(request: FastifyRequest): AuthUser {
  if (request.user === null)
    throw new AppError('unauthenticated', 'This endpoint needs a Bearer access token');
  return request.user;
}

export const authPlugin = fp(
  async (app: FastifyInstance, options: { tokens: AccessTokens }) => {
    app.decorateRequest('user', null);
    // preParsing, not onRequest: rate limits (route-level onRequest hooks, which run after every app-level one)
    // then count requests with missing or forged tokens too; the body is still unread, so a refusal costs nothing.
    app.addHook('preParsing', async (request) => {
      const header = request.headers.authorization;
      const needed = request.routeOptions.config.auth;
      if (header === undefined) {
        if (needed) throw new AppError('unauthenticated', 'This endpoint needs a Bearer access token');
        return;
      }
      const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header);
      if (!match?.[1])
        throw new AppError('invalid_token', 'The Authorization header must be "Bearer <token>"');
      request.user = options.tokens.verify(match[1]);
      if (needed && !hasRole(request.user, needed)) {
        throw new AppError('forbidden', `This endpoint needs the ${needed} role`);
      }
    });
  },
  { name: 'bazaar-auth' },
);
