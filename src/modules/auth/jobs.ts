import { createHmac } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Database } from '../../platform/db/index.js';
import { AppError } from '../../platform/http/errors.js';
import type { JobRegistry } from '../../platform/jobs/registry.js';
import { sendMailOnce } from '../../platform/mail/mail-job.js';
import type { Mail, Mailer } from '../../platform/mail/mailer.js';
import type { UsersService } from '../users/service.js';
import * as repo from './repo.js';
import { sha256 } from './tokens.js';

export const PASSWORD_RESET_EMAIL_JOB = 'auth.password_reset_email';

/** How often expired and spent reset tokens are deleted, and how long they are kept after expiring. */
const PURGE_EVERY_MS = 60 * 60_000;
export const RESET_TOKEN_KEEP_HOURS = 24;

/**
 * The reset mail goes through the outbox, written in the transaction that stores the token, yet the outbox row
 * must not hold a token that works: the token is HMAC(resetKey, nonce), the job carries the nonce, the database
 * only the token's SHA-256, and the handler, holding the key (derived from JWT_SECRET), derives the same token
 * again at every run, so a rerun writes the same mail (sent once: sendMailOnce).
 */
export function resetKeyOf(jwtSecret: string): Buffer {
  return createHmac('sha256', jwtSecret).update('bazaar password reset').digest();
}

export function resetToken(resetKey: Buffer, nonce: string): { token: string; hash: Buffer } {
  const token = createHmac('sha256', resetKey).update(nonce).digest('base64url');
  return { token, hash: sha256(token) };
}

function resetMail(user: { username: string; email: string }, link: string, token: string): Mail {
  return {
    to: user.email,
    subject: 'Reset your Bazaar password',
    text: [
      `Hello ${user.username},`,
      '',
      'Someone asked to reset the password of your Bazaar account. If it was you, open this link',
      'within one hour (it works once):',
      '',
      link,
      '',
      `Or send this token to POST /api/auth/password/reset/confirm/: ${token}`,
      '',
      'If it was not you, ignore this mail: your password stays as it is.',
    ].join('\n'),
  };
}

const ResetJob = Type.Object({
  user_id: Type.Integer(),
  nonce: Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$' }),
});

export function registerAuthJobs(
  registry: JobRegistry,
  deps: { db: Database; users: UsersService; mailer: Mailer; publicUrl: string; resetKey: Buffer },
): void {
  const { db, users, mailer, publicUrl, resetKey } = deps;

  registry.register(PASSWORD_RESET_EMAIL_JOB, ResetJob, async ({ user_id, nonce }) => {
    const { token, hash } = resetToken(resetKey, nonce);
    // A token spent or expired before its mail left (a long outage) is not worth a mail that cannot work.
    if (!(await repo.resetTokenIsLive(db, user_id, hash))) return;
    // A user deleted meanwhile gets no mail; any other failure (the database away) retries the job.
    const user = await users.getUser(user_id).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'not_found') return undefined;
      throw error;
    });
    if (user === undefined) return;
    const link = `${publicUrl}/reset-password?token=${token}`;
    await sendMailOnce(db, mailer, `password-reset-${nonce}`, resetMail(user, link, token));
  });

  registry.every('purge reset tokens', PURGE_EVERY_MS, () =>
    repo.purgeResetTokens(db, RESET_TOKEN_KEEP_HOURS).then(() => {}),
  );
}
