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
