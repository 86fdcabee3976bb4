import { randomBytes, randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../platform/db/index.js';
import type { AccessTokens } from '../../platform/http/auth.js';
import { AppError } from '../../platform/http/errors.js';
import type { FailureLimiter } from '../../platform/http/rate-limits.js';
import { enqueue } from '../../platform/jobs/outbox.js';
import { loginFailures as failedLogins, registrations } from '../../platform/observability/metrics.js';
import { hashPassword, verifyPassword } from '../users/passwords.js';
import type { CreateUser, UserRow, UsersService } from '../users/service.js';
import { assertPasswordStrength } from '../users/service.js';
import { PASSWORD_RESET_EMAIL_JOB, resetToken } from './jobs.js';
import * as repo from './repo.js';
import { newSecret, sha256 } from './tokens.js';

export const REFRESH_TOKEN_TTL_SECONDS = 14 * 24 * 3600;
export const RESET_TOKEN_TTL_SECONDS = 3600;

export interface LoginInput {
  username?: string;
  email?: string;
  password: string;
}

export interface ProfileChanges {
  username?: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  current_password?: string;
}

export interface AuthDeps {
  db: Database;
  users: UsersService;
  tokens: AccessTokens;
  /** Derives reset tokens from the nonces their mails' jobs carry (jobs.ts, resetKeyOf). */
  resetKey: Buffer;
  loginFailures: { perAccount: FailureLimiter; perAddress: FailureLimiter };
}

function loginIdentifier(input: LoginInput): ['username' | 'email', string] {
  if (input.username !== undefined && input.email === undefined) return ['username', input.username];
  if (input.email !== undefined && input.username === undefined) return ['email', input.email];
  throw new AppError('validation', 'Send either username or email, with password', [
    { path: 'body', message: 'needs exactly one of username and email' },
  ]);
}

const invalidCredentials = () =>
  new AppError('invalid_credentials', 'The username, email or password is not correct');
const invalidRefresh = () =>
  new AppError('invalid_token', 'The refresh token is invalid, expired or revoked');

export function createAuthService(deps: AuthDeps) {
  const { db, users, tokens, loginFailures } = deps;
  // Verified against when the account does not exist, so an unknown name costs the same hashing as a known one.
  const dummyHash = hashPassword(randomBytes(16).toString('hex'));

  async function startSession(q: Queryable, user: UserRow) {
    const refresh = newSecret();
    await repo.insertRefreshToken(q, {
      userId: user.id,
      familyId: randomUUID(),
      hash: refresh.hash,
      ttlSeconds: REFRESH_TOKEN_TTL_SECONDS,
    });
    return { user, access: tokens.sign(user), refresh: refresh.token };
  }

  /** Checks a user's current password, counting a wrong one against the account's failure budget. */
  async function confirmPassword(userId: number, password: string): Promise<void> {
    const key = `user:${userId}`;
    await loginFailures.perAccount.check(key);
    const hash = await users.passwordHashOf(userId);
    if (hash === undefined || !(await verifyPassword(hash, password))) {
      await loginFailures.perAccount.recordFailure(key);
      throw new AppError('wrong_password', 'The current password is not correct', [
        { path: 'body.current_password', message: 'is not correct' },
      ]);
    }
  }

  return {
    async register(input: CreateUser) {
      const user = await users.createUser({ ...input, role: 'customer' });
      registrations.inc();
      return startSession(db, user);
    },

    /**
     * Same answer and same argon2 work for an unknown account and a wrong password. Failures count per account
     * and per client address; once either budget is spent, even the right password gets a 429 until the window
     * ends, which is what stops a guessing run.
     */
    async login(input: LoginInput, address: string) {
      const [by, identifier] = loginIdentifier(input);
      const found = await users.findCredentials(by, identifier);
      const accountKey = found ? `user:${found.user.id}` : `unknown:${identifier.toLowerCase()}`;
      try {
        await loginFailures.perAddress.check(address);
        await loginFailures.perAccount.check(accountKey);
      } catch (error) {
        if (error instanceof AppError) failedLogins.inc();
        throw error;
      }
      const valid = await verifyPassword(found?.passwordHash ?? (await dummyHash), input.password);
      if (!found || !valid) {
        failedLogins.inc();
        await Promise.all([
          loginFailures.perAddress.recordFailure(address),
          loginFailures.perAccount.recordFailure(accountKey),
        ]);
        throw invalidCredentials();
      }
      return startSession(db, found.user);
    },

    /** Rotation: the token is spent and a new one of the same family issued; a spent token revokes the family. */
    async refresh(token: string) {
      const hash = sha256(token);
      const outcome = await db.transaction(async (tx) => {
        const used = await repo.useRefreshToken(tx, hash);
        if (!used) {
          const known = await repo.findRefreshToken(tx, hash);
          if (known?.used_at) await repo.revokeFamily(tx, known.family_id);
          return null;
        }
        const next = newSecret();
        await repo.insertRefreshToken(tx, {
          userId: used.user_id,
          familyId: used.family_id,
          hash: next.hash,
          ttlSeconds: REFRESH_TOKEN_TTL_SECONDS,
        });
        return { userId: used.user_id, refresh: next.token };
      });
      // Thrown after the commit, so the revocation of a reused family is kept.
      if (outcome === null) throw invalidRefresh();
      // The role is read again, so a role change takes effect at the next refresh.
      const user = await users.getUser(outcome.userId);
      return { access: tokens.sign(user), refresh: outcome.refresh };
    },

    /** Ends the session the token belongs to; an unknown token is already logged out. */
    async logout(token: string): Promise<void> {
      const known = await repo.findRefreshToken(db, sha256(token));
      if (known) await repo.revokeFamily(db, known.family_id);
    },

    me: (userId: number) => users.getUser(userId),

    /** Username and email identify the account for login and reset, so changing them needs the password. */
    async updateMe(userId: number, changes: ProfileChanges) {
      const { current_password: currentPassword, ...profile } = changes;
      if (profile.username !== undefined || profile.email !== undefined) {
        if (currentPassword === undefined) {
          throw new AppError('validation', 'Changing the username or email needs current_password', [
            { path: 'body.current_password', message: 'is required to change the username or email' },
          ]);
        }
        await confirmPassword(userId, currentPassword);
      }
      return users.updateProfile(userId, profile);
    },

    async changePassword(userId: number, currentPassword: string, newPassword: string): Promise<void> {
      assertPasswordStrength(newPassword, 'body.new_password');
      await confirmPassword(userId, currentPassword);
      const hash = await hashPassword(newPassword);
      await db.transaction(async (tx) => {
        await users.setPasswordHash(tx, userId, hash);
        await repo.revokeAllOfUser(tx, userId);
      });
    },

    /**
     * Answers the same whether or not the email exists. The token and its mail's outbox job are written in one
     * transaction (jobs.ts: the job holds a nonce, not the token), and the mail leaves from the job runner.
     */
    async requestPasswordReset(email: string): Promise<void> {
      const found = await users.findCredentials('email', email);
      if (!found) return;
      const nonce = randomBytes(18).toString('base64url');
      const { hash } = resetToken(deps.resetKey, nonce);
      await db.transaction(async (tx) => {
        await repo.insertResetToken(tx, { userId: found.user.id, hash, ttlSeconds: RESET_TOKEN_TTL_SECONDS });
        await enqueue(tx, PASSWORD_RESET_EMAIL_JOB, { user_id: found.user.id, nonce });
      });
    },

    async confirmPasswordReset(token: string, password: string): Promise<void> {
      assertPasswordStrength(password);
      const hash = await hashPassword(password);
      const userId = await db.transaction(async (tx) => {
        const owner = await repo.takeResetToken(tx, sha256(token));
        if (owner === undefined) return undefined;
        await users.setPasswordHash(tx, owner, hash);
        await repo.spendResetTokensOfUser(tx, owner);
        await repo.revokeAllOfUser(tx, owner);
        return owner;
      });
      if (userId === undefined) {
        throw new AppError('invalid_reset_token', 'The reset token is invalid, expired or already used');
      }
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
