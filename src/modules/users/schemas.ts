import { type Static, Type } from '@sinclair/typebox';
import type { Role } from '../../platform/http/auth.js';
import { Cursor, Limit, Page, Timestamp } from '../../platform/http/schemas.js';

export const RoleSchema = Type.Union([
  Type.Literal('customer'),
  Type.Literal('manager'),
  Type.Literal('admin'),
]) satisfies { static: Role };

/** A user as the API shows it: never the password hash (the serializer drops anything not listed here). */
export const User = Type.Object(
  {
    id: Type.Integer(),
    username: Type.String(),
    email: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    role: RoleSchema,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const Username = Type.String({
  pattern: '^[A-Za-z0-9_.-]{3,50}$',
  description: '3-50 of A-Z a-z 0-9 _ . -',
});
export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const Name = Type.String({ maxLength: 100 });

export const UserList = Page(User);

export const UserListQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor), role: Type.Optional(RoleSchema) },
  { additionalProperties: false },
);
export type UserListQuery = Static<typeof UserListQuery>;

export const RoleChange = Type.Object({ role: RoleSchema }, { additionalProperties: false });
