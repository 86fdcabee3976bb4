import { Type } from '@sinclair/typebox';
import { Email, Name, User, Username } from '../users/schemas.js';

/** Request and response bodies of /api/auth/. Every body refuses unknown fields. */

const strict = { additionalProperties: false } as const;

// Upper bound: argon2 hashes any length, but a megabyte of password is an attack, not a password.
export const Password = Type.String({ minLength: 8, maxLength: 1024 });
const AnyPassword = Type.String({ minLength: 1, maxLength: 1024 });
/** Refresh and reset tokens: 32 random bytes in base64url. */
const OpaqueToken = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });

export const Register = Type.Object(
  {
    username: Username,
    email: Email,
    password: Password,
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
  },
  strict,
);

/** Exactly one of username and email; the service says so when both or neither come. */
export const Login = Type.Object(
  { username: Type.Optional(Username), email: Type.Optional(Email), password: AnyPassword },
  strict,
);

export const RefreshBody = Type.Object({ refresh: OpaqueToken }, strict);

export const ProfileUpdate = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Email),
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
    current_password: Type.Optional(AnyPassword),
  },
  { ...strict, minProperties: 1 },
);

export const PasswordChange = Type.Object({ current_password: AnyPassword, new_password: Password }, strict);

export const ResetRequest = Type.Object({ email: Email }, strict);

export const ResetConfirm = Type.Object({ token: OpaqueToken, password: Password }, strict);

export const Session = Type.Object({
  user: User,
  access: Type.String(),
  refresh: Type.String(),
});

export const Tokens = Type.Object({ access: Type.String(), refresh: Type.String() });
