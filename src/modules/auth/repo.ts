import type { Queryable } from '../../platform/db/index.js';

/** Refresh and password-reset tokens. Only SHA-256 hashes of the tokens are stored, never the tokens. */

export async function insertRefreshToken(
  db: Queryable,
  token: { userId: number; familyId: string; hash: Buffer; ttlSeconds: number },
): Promise<void> {
  await db.query(
    `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [token.userId, token.familyId, token.hash, token.ttlSeconds],
  );
}

/**
 * Marks a live token used and returns its owner and family; one conditional UPDATE, so two concurrent uses of
 * the same token cannot both succeed.
 */
export async function useRefreshToken(
  db: Queryable,
  hash: Buffer,
): Promise<{ user_id: number; family_id: string } | undefined> {
  const { rows } = await db.query<{ user_id: number; family_id: string }>(
    `UPDATE refresh_tokens SET used_at = now()
     WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
     RETURNING user_id, family_id`,
    [hash],
  );
  return rows[0];
}

export async function findRefreshToken(
  db: Queryable,
  hash: Buffer,
): Promise<{ family_id: string; used_at: Date | null } | undefined> {
  const { rows } = await db.query<{ family_id: string; used_at: Date | null }>(
    'SELECT family_id, used_at FROM refresh_tokens WHERE token_hash = $1',
    [hash],
  );
  return rows[0];
}

export async function revokeFamily(db: Queryable, familyId: string): Promise<void> {
  await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [
    familyId,
  ]);
}

export async function revokeAllOfUser(db: Queryable, userId: number): Promise<void> {
  await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [
    userId,
  ]);
}

export async function insertResetToken(
  db: Queryable,
  token: { userId: number; hash: Buffer; ttlSeconds: number },
): Promise<void> {
  await db.query(
    `INSERT INTO password_reset_tokens (user_id, token_hash, expires_at)
     VALUES ($1, $2, now() + make_interval(secs => $3))`,
    [token.userId, token.hash, token.ttlSeconds],
  );
}

/** Whether the user's reset token of this hash can still be used (unspent, unexpired). */
export async function resetTokenIsLive(db: Queryable, userId: number, hash: Buffer): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM password_reset_tokens
      WHERE token_hash = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > now()`,
    [hash, userId],
  );
  return rows.length > 0;
}

/** Deletes reset tokens that expired more than keepHours ago (spent ones expire too); run periodically. */
export async function purgeResetTokens(db: Queryable, keepHours: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM password_reset_tokens WHERE expires_at < now() - $1 * interval '1 hour'`,
    [keepHours],
  );
  return rowCount;
}

/** Spends a live reset token (single use) and returns its user; undefined when unknown, used or expired. */
export async function takeResetToken(db: Queryable, hash: Buffer): Promise<number | undefined> {
  const { rows } = await db.query<{ user_id: number }>(
    `UPDATE password_reset_tokens SET used_at = now()
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
     RETURNING user_id`,
    [hash],
  );
  return rows[0]?.user_id;
}

/** After a reset, every other outstanding reset link of the user stops working too. */
export async function spendResetTokensOfUser(db: Queryable, userId: number): Promise<void> {
  await db.query('UPDATE password_reset_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL', [
    userId,
  ]);
}
