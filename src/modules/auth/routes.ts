import { Type } from '@sinclair/typebox';
import { currentUser } from '../../platform/http/auth.js';
import type { RouteRateLimit } from '../../platform/http/rate-limits.js';
import { problems } from '../../platform/http/schemas.js';
import type { HttpServer } from '../../platform/http/server.js';
import { User } from '../users/schemas.js';
import * as schemas from './schemas.js';
import type { AuthService } from './service.js';

export interface AuthRoutesOptions {
  auth: AuthService;
  /** Per-address limits on the routes that create things for anonymous callers (counted on every request). */
  limits: { register: RouteRateLimit; passwordReset: RouteRateLimit };
}

const Empty = Type.Null({ description: 'No content' });
const bearer = [{ bearer: [] }];
const tags = ['auth'];

export async function authRoutes(app: HttpServer, { auth, limits }: AuthRoutesOptions) {
  app.post(
    '/api/auth/register/',
    {
      config: { rateLimit: limits.register },
      schema: {
        tags,
        summary: 'Create a customer account and sign in',
        body: schemas.Register,
        response: { 201: schemas.Session, ...problems(400, 409, 429) },
      },
    },
    async (request, reply) => reply.code(201).send(await auth.register(request.body)),
  );

  app.post(
    '/api/auth/login/',
    {
      schema: {
        tags,
        summary: 'Sign in with a username or an email, and a password',
        body: schemas.Login,
        response: { 200: schemas.Session, ...problems(400, 401, 429) },
      },
    },
    (request) => auth.login(request.body, request.ip),
  );

  app.post(
    '/api/auth/refresh/',
    {
      schema: {
        tags,
        summary: 'Trade a refresh token for a new pair (the old one is spent; reusing it ends the session)',
        body: schemas.RefreshBody,
        response: { 200: schemas.Tokens, ...problems(400, 401) },
      },
    },
    (request) => auth.refresh(request.body.refresh),
  );

  app.post(
    '/api/auth/logout/',
    {
      schema: {
        tags,
        summary: 'End the session of a refresh token',
        body: schemas.RefreshBody,
        response: { 204: Empty, ...problems(400) },
      },
    },
    async (request, reply) => {
      await auth.logout(request.body.refresh);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/auth/me/',
    {
      config: { auth: 'customer' },
      schema: {
        tags,
        summary: 'The signed-in account',
        security: bearer,
        response: { 200: User, ...problems(401) },
      },
    },
    (request) => auth.me(currentUser(request).id),
  );

  app.patch(
    '/api/auth/me/',
    {
      config: { auth: 'customer' },
      schema: {
        tags,
        summary: 'Change the profile; a new username or email needs current_password',
        security: bearer,
        body: schemas.ProfileUpdate,
        response: { 200: User, ...problems(400, 401, 403, 409, 429) },
      },
    },
    (request) => auth.updateMe(currentUser(request).id, request.body),
  );

  app.post(
    '/api/auth/password/change/',
    {
      config: { auth: 'customer' },
      schema: {
        tags,
        summary: 'Change the password; every refresh token of the account is revoked',
        security: bearer,
        body: schemas.PasswordChange,
        response: { 204: Empty, ...problems(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      await auth.changePassword(
        currentUser(request).id,
        request.body.current_password,
        request.body.new_password,
      );
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/auth/password/reset/',
    {
      config: { rateLimit: limits.passwordReset },
      schema: {
        tags,
        summary: 'Mail a single-use reset token valid one hour (202 whether or not the email exists)',
        body: schemas.ResetRequest,
        response: { 202: Empty, ...problems(400, 429) },
      },
    },
    async (request, reply) => {
      await auth.requestPasswordReset(request.body.email);
      return reply.code(202).send(null);
    },
  );

  app.post(
    '/api/auth/password/reset/confirm/',
    {
      schema: {
        tags,
        summary: 'Set a new password with a reset token; every refresh token of the account is revoked',
        body: schemas.ResetConfirm,
        response: { 204: Empty, ...problems(400) },
      },
    },
    async (request, reply) => {
      await auth.confirmPasswordReset(request.body.token, request.body.password);
      return reply.code(204).send(null);
    },
  );
}
