import type { Queryable } from '../../platform/db/index.js';
import type { Role } from '../../platform/http/auth.js';

export interface UserRow {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  created_at: Date;
  updated_at: Date;
}

const USER_COLUMNS = 'id, username, email, first_name, last_name, role, created_at, updated_at';

export interface NewUser {
  username: string;
  email: string;
  passwordHash: string;
  firstName: string;
  lastName: string;
  role: Role;
}

export async function insertUser(db: Queryable, user: NewUser): Promise<UserRow> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (username, email, password, first_name, last_name, role)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLUMNS}`,
    [user.username, user.email, user.passwordHash, user.firstName, user.lastName, user.role],
  );
  return rows[0] as UserRow;
}

export async function findUserById(db: Queryable, id: number): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  return rows[0];
}

export interface Credentials {
  user: UserRow;
  passwordHash: string;
}

/** The one query that reads a password hash; the hash never leaves the users and auth services. */
export async function findCredentials(
  db: Queryable,
  by: 'username' | 'email',
  value: string,
): Promise<Credentials | undefined> {
  const { rows } = await db.query<UserRow & { password: string }>(
    `SELECT ${USER_COLUMNS}, password FROM users WHERE lower(${by}) = lower($1)`,
    [value],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { password, ...user } = row;
  return { user, passwordHash: password };
}

export async function findPasswordHash(db: Queryable, id: number): Promise<string | undefined> {
  const { rows } = await db.query<{ password: string }>('SELECT password FROM users WHERE id = $1', [id]);
  return rows[0]?.password;
}

export async function updatePasswordHash(db: Queryable, id: number, passwordHash: string): Promise<void> {
  await db.query('UPDATE users SET password = $2, updated_at = now() WHERE id = $1', [id, passwordHash]);
}

export interface ProfileChanges {
  username?: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  role?: Role;
}

const CHANGEABLE = ['username', 'email', 'first_name', 'last_name', 'role'] as const;

export async function updateUser(
  db: Queryable,
  id: number,
  changes: ProfileChanges,
): Promise<UserRow | undefined> {
  const fields = CHANGEABLE.filter((field) => changes[field] !== undefined);
  if (fields.length === 0) return findUserById(db, id);
  const assignments = fields.map((field, index) => `${field} = $${index + 2}`).join(', ');
  const { rows } = await db.query<UserRow>(
    `UPDATE users SET ${assignments}, updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS}`,
    [id, ...fields.map((field) => changes[field])],
  );
  return rows[0];
}

/** One keyset page in id order: `afterId` is the last id of the previous page. */
export async function listUsers(
  db: Queryable,
  options: { afterId: number; limit: number; role?: Role },
): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users
     WHERE id > $1 AND ($2::text IS NULL OR role = $2)
     ORDER BY id LIMIT $3`,
    [options.afterId, options.role ?? null, options.limit],
  );
  return rows;
}
