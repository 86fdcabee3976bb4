import type { Database } from '../../platform/db/index.js';
import { PgErrorCode, pgConstraint, pgErrorCode } from '../../platform/db/index.js';
import type { Role } from '../../platform/http/auth.js';
import { AppError } from '../../platform/http/errors.js';
import { hashPassword } from './passwords.js';
import * as repo from './repo.js';

export interface CreateUser {
  username: string;
  email: string;
  password: string;
  first_name?: string;
  last_name?: string;
  role?: Role;
}

export const MIN_PASSWORD_LENGTH = 8;

export function createUsersService({ db }: { db: Database }) {
  return {
    async createUser(input: CreateUser): Promise<repo.UserRow> {
      if (input.password.length < MIN_PASSWORD_LENGTH) {
        throw new AppError('validation', `The password needs at least ${MIN_PASSWORD_LENGTH} characters`, [
          { path: 'body.password', message: `must have at least ${MIN_PASSWORD_LENGTH} characters` },
        ]);
      }
      const passwordHash = await hashPassword(input.password);
      try {
        return await repo.insertUser(db, {
          username: input.username,
          email: input.email,
          passwordHash,
          firstName: input.first_name ?? '',
          lastName: input.last_name ?? '',
          role: input.role ?? 'customer',
        });
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
    },

    async getUser(id: number): Promise<repo.UserRow> {
      const user = await repo.findUserById(db, id);
      if (!user) throw new AppError('not_found', `User ${id} does not exist`);
      return user;
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
