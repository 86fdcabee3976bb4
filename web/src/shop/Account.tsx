import { useState } from 'preact/hooks';
import { type ApiError, api, login, register, type User } from '../api';
import { Link, navigate } from '../router';
import { asApiError, ErrorNote, Field, PageTitle } from '../ui';

/** The sign-in form, shared by the shop and the manager. */
export function LoginForm({ onDone, title = 'Log in' }: { onDone: (user: User) => void; title?: string }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      onDone(await login(String(form.get('identifier')), String(form.get('password'))));
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stack narrow" onSubmit={submit}>
      <PageTitle title={title} />
      <ErrorNote error={error} />
      <Field label="Username or email" name="identifier" autoComplete="username" required />
      <Field label="Password" name="password" type="password" autoComplete="current-password" required />
      <button type="submit" disabled={busy}>
        Log in
      </button>
    </form>
  );
}

export function LoginPage({ next }: { next: string }) {
  const safeNext = next.startsWith('/') && !next.startsWith('//') ? next : '/';
  return (
    <section>
      <LoginForm onDone={() => navigate(safeNext, { replace: true })} />
      <p>
        New here? <Link href="/register">Create an account</Link> ·{' '}
        <Link href="/password-reset">Forgot your password?</Link>
      </p>
    </section>
  );
}

export function RegisterPage() {
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    setError(null);
    try {
      await register({
        username: text('username'),
        email: text('email'),
        password: String(form.get('password')),
        ...(text('first_name') ? { first_name: text('first_name') } : {}),
        ...(text('last_name') ? { last_name: text('last_name') } : {}),
      });
      navigate('/', { replace: true });
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return (
    <section>
      <form class="stack narrow" onSubmit={submit}>
        <PageTitle title="Create an account" />
        <ErrorNote error={error} />
        <Field
          label="Username"
          name="username"
          autoComplete="username"
          required
          pattern="[A-Za-z0-9_.\-]{3,50}"
          hint="3 to 50 letters, digits, dots, dashes or underscores"
        />
        <Field label="Email" name="email" type="email" autoComplete="email" required />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          hint="At least 8 characters"
        />
        <Field label="First name (optional)" name="first_name" autoComplete="given-name" />
        <Field label="Last name (optional)" name="last_name" autoComplete="family-name" />
        <button type="submit">Create account</button>
      </form>
      <p>
        Already registered? <Link href="/login">Log in</Link>
      </p>
    </section>
  );
}

export function ResetRequestPage() {
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setError(null);
    try {
      await api('POST', '/api/auth/password/reset/', { body: { email: String(form.get('email')).trim() } });
      setSent(true);
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return (
    <form class="stack narrow" onSubmit={submit}>
      <PageTitle title="Reset your password" />
      {sent ? (
        <p class="note ok" role="status">
          If an account uses that address, a reset link is on its way. It works once, within an hour.
        </p>
      ) : (
        <>
          <ErrorNote error={error} />
          <Field label="Email" name="email" type="email" autoComplete="email" required />
          <button type="submit">Send the reset link</button>
        </>
      )}
      <p>
        Have a token? <Link href="/reset-password">Choose a new password</Link>
      </p>
    </form>
  );
}

export function ResetConfirmPage({ token }: { token: string }) {
  const [done, setDone] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setError(null);
    try {
      await api('POST', '/api/auth/password/reset/confirm/', {
        body: { token: String(form.get('token')).trim(), password: String(form.get('password')) },
      });
      setDone(true);
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  if (done)
    return (
      <section>
        <PageTitle title="Password changed" />
        <p>
          Your password is changed and every other session is signed out. <Link href="/login">Log in</Link>
        </p>
      </section>
    );
  return (
    <form class="stack narrow" onSubmit={submit}>
      <PageTitle title="Choose a new password" />
      <ErrorNote error={error} />
      <Field
        label="Reset token"
        name="token"
        required
        defaultValue={token}
        hint="From the email we sent you"
      />
      <Field
        label="New password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        minLength={8}
      />
      <button type="submit">Set the new password</button>
    </form>
  );
}
