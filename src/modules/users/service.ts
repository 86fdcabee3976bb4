import type { Database, Queryable } from '../../platform/db/index.js';
import { PgErrorCode, pgConstraint, pgErrorCode } from '../../platform/db/index.js';
import type { Role } from '../../platform/http/auth.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { AppError } from '../../platform/http/errors.js';
import { hashPassword } from './passwords.js';
import * as repo from './repo.js';

export type { Credentials, UserRow } from './repo.js';

export interface CreateUser {
  username: string;
  email: string;
  password: string;
  first_name?: string;
  last_name?: string;
  role?: Role;
}

export interface ListUsersQuery {
  limit: number;
  cursor?: string;
  role?: Role;
}

export const MIN_PASSWORD_LENGTH = 8;

export function assertPasswordStrength(password: string, path = 'body.password'): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError('validation', `The password needs at least ${MIN_PASSWORD_LENGTH} characters`, [
      { path, message: `must have at least ${MIN_PASSWORD_LENGTH} characters` },
    ]);
  }
}

/** Unique and check violations on users become a 409 naming the field, or a 400; anything else is rethrown. */
async function mapConstraints<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (pgErrorCode(error) === PgErrorCode.uniqueViolation) {
      const field = pgConstraint(error) === 'users_email_key' ? 'email' : 'username';
      throw new AppError('duplicate', `That ${field} is already taken`, [
        { path: `body.${field}`, message: 'is already taken' },
      ]);
    }
    if (pgErrorCode(error) === PgErrorCode.checkViolation) {
      throw new AppError('validation', 'The username or email is malformed');
    }
    throw error;
  }
}

export function createUsersService({ db }: { db: Database }) {
  const getUser = async (id: number): Promise<repo.UserRow> => {
    const user = await repo.findUserById(db, id);
    if (!user) throw new AppError('not_found', `User ${id} does not exist`);
    return user;
  };

  return {
    async createUser(input: CreateUser): Promise<repo.UserRow> {
      assertPasswordStrength(input.password);
      const passwordHash = await hashPassword(input.password);
      return mapConstraints(() =>
        repo.insertUser(db, {
          username: input.username,
          email: input.email,
          passwordHash,
          firstName: input.first_name ?? '',
          lastName: input.last_name ?? '',
          role: input.role ?? 'customer',
        }),
      );
    },

    getUser,

    /** The account and its password hash, by username or email (case-insensitive), for the auth service. */
    findCredentials(by: 'username' | 'email', value: string): Promise<repo.Credentials | undefined> {
      return repo.findCredentials(db, by, value);
    },

    passwordHashOf(id: number): Promise<string | undefined> {
      return repo.findPasswordHash(db, id);
    },

    /** Stores an already computed hash; runs in the caller's transaction so sessions die with the old password. */
    setPasswordHash(tx: Queryable, id: number, passwordHash: string): Promise<void> {
      return repo.updatePasswordHash(tx, id, passwordHash);
    },

    async updateProfile(id: number, changes: repo.ProfileChanges): Promise<repo.UserRow> {
      const user = await mapConstraints(() => repo.updateUser(db, id, changes));
      if (!user) throw new AppError('not_found', `User ${id} does not exist`);
      return user;
    },

    /** An admin changes a role; not their own, so the last admin cannot lock everyone out by mistake. */
    async changeRole(actorId: number, id: number, role: Role): Promise<repo.UserRow> {
      const user = await getUser(id);
      if (id === actorId && role !== user.role) {
        throw new AppError('conflict', 'An admin cannot change their own role');
      }
      const updated = await repo.updateUser(db, id, { role });
      if (!updated) throw new AppError('not_found', `User ${id} does not exist`);
      return updated;
    },

    async listUsers(query: ListUsersQuery) {
      const [afterId] = query.cursor ? decodeCursor(query.cursor, 'id', ['int']) : [0];
      const rows = await repo.listUsers(db, {
        afterId: afterId as number,
        limit: query.limit + 1,
        role: query.role,
      });
      const items = rows.slice(0, query.limit);
      const last = items.at(-1);
      return {
        items,
        next_cursor: rows.length > query.limit && last ? encodeCursor('id', [last.id]) : null,
      };
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
