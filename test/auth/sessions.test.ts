import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { bearer, signUp } from '../helpers/accounts.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';

forEachEngine('auth sessions', (ctx) => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '100' } });
  });
  after(() => t.close());

  const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url, payload, headers });
  const me = (access: string) =>
    t.app.inject({ method: 'GET', url: '/api/auth/me/', headers: bearer(access) });
  const liveTokens = async (userId: number) =>
    (
      await ctx.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL AND used_at IS NULL',
        [userId],
      )
    ).rows[0]?.n;

  it('registers a customer and answers with the user and a working token pair', async () => {
    const res = await post('/api/auth/register/', {
      username: 'Alice_1',
      email: 'alice1@example.com',
      password: 'correct horse battery',
      first_name: 'Alice',
    });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.equal(body.user.username, 'Alice_1');
    assert.equal(body.user.role, 'customer');
    assert.equal(body.user.first_name, 'Alice');
    assert.equal(body.user.password, undefined);
    assert.doesNotMatch(res.body, /argon2/);
    assert.match(body.refresh, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await me(body.access)).json().id, body.user.id);
  });

  it('stores the password as an argon2id hash and refresh tokens only as SHA-256 hashes', async () => {
    const account = await signUp(t.app);
    const { rows } = await ctx.db.query<{ password: string }>('SELECT password FROM users WHERE id = $1', [
      account.user.id,
    ]);
    assert.match(rows[0]?.password ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const tokens = await ctx.db.query<{ token_hash: Uint8Array }>(
      'SELECT token_hash FROM refresh_tokens WHERE user_id = $1',
      [account.user.id],
    );
    assert.equal(tokens.rows.length, 1);
    assert.equal(tokens.rows[0]?.token_hash.length, 32);
    assert.ok(
      !Buffer.from(tokens.rows[0]?.token_hash ?? [])
        .toString('utf8')
        .includes(account.refresh),
    );
  });

  it('refuses a taken username or email, whatever their case, with 409', async () => {
    const account = await signUp(t.app);
    const byName = await post('/api/auth/register/', {
      username: account.user.username.toUpperCase(),
      email: 'other-address@example.com',
      password: 'long enough 123',
    });
    assert.equal(byName.statusCode, 409);
    assert.equal(byName.json().errors[0].path, 'body.username');
    const byEmail = await post('/api/auth/register/', {
      username: 'someone_else_1',
      email: account.user.email.toUpperCase(),
      password: 'long enough 123',
    });
    assert.equal(byEmail.statusCode, 409);
    assert.equal(byEmail.json().errors[0].path, 'body.email');
  });

  it('refuses a password shorter than 8 characters', async () => {
    const res = await post('/api/auth/register/', {
      username: 'shorty',
      email: 's@example.com',
      password: 'seven77',
    });
    assert.equal(res.statusCode, 400);
  });

  it('logs in by username or by email, case-insensitively', async () => {
    const account = await signUp(t.app);
    for (const credentials of [
      { username: account.user.username.toUpperCase(), password: account.password },
      { email: account.user.email.toUpperCase(), password: account.password },
    ]) {
      const res = await post('/api/auth/login/', credentials);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().user.id, account.user.id);
    }
  });

  it('answers an unknown account and a wrong password with the same 401', async () => {
    const account = await signUp(t.app);
    const wrong = await post('/api/auth/login/', {
      username: account.user.username,
      password: 'not the password',
    });
    const unknown = await post('/api/auth/login/', { username: 'nobody_here', password: 'not the password' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    const strip = (body: { request_id?: string }) => ({ ...body, request_id: undefined });
    assert.deepEqual(strip(wrong.json()), strip(unknown.json()));
  });

  it('needs exactly one of username and email to log in', async () => {
    const both = await post('/api/auth/login/', { username: 'abc', email: 'a@example.com', password: 'x' });
    const neither = await post('/api/auth/login/', { password: 'whatever1' });
    assert.equal(both.statusCode, 400);
    assert.equal(neither.statusCode, 400);
  });

  it('rotates the refresh token on every use', async () => {
    const account = await signUp(t.app);
    const first = await post('/api/auth/refresh/', { refresh: account.refresh });
    assert.equal(first.statusCode, 200);
    const pair = first.json();
    assert.notEqual(pair.refresh, account.refresh);
    assert.equal((await me(pair.access)).statusCode, 200);
    const second = await post('/api/auth/refresh/', { refresh: pair.refresh });
    assert.equal(second.statusCode, 200);
  });

  it('revokes the whole family when a rotated refresh token is presented again', async () => {
    const account = await signUp(t.app);
    const next = (await post('/api/auth/refresh/', { refresh: account.refresh })).json();
    const replay = await post('/api/auth/refresh/', { refresh: account.refresh });
    assert.equal(replay.statusCode, 401);
    // The legitimate holder's newest token died with the family.
    assert.equal((await post('/api/auth/refresh/', { refresh: next.refresh })).statusCode, 401);
    assert.equal(await liveTokens(account.user.id), 0);
  });

  it('refuses an unknown refresh token with 401', async () => {
    const res = await post('/api/auth/refresh/', { refresh: 'A'.repeat(43) });
    assert.equal(res.statusCode, 401);
  });

  it('logs out: the refresh token stops working; other sessions live on', async () => {
    const account = await signUp(t.app);
    const other = (
      await post('/api/auth/login/', { username: account.user.username, password: account.password })
    ).json();
    const res = await post('/api/auth/logout/', { refresh: account.refresh });
    assert.equal(res.statusCode, 204);
    assert.equal((await post('/api/auth/refresh/', { refresh: account.refresh })).statusCode, 401);
    assert.equal((await post('/api/auth/refresh/', { refresh: other.refresh })).statusCode, 200);
    assert.equal((await post('/api/auth/logout/', { refresh: 'B'.repeat(43) })).statusCode, 204);
  });

  it('shows and edits the own profile; a new email needs the current password', async () => {
    const account = await signUp(t.app);
    const patch = (payload: object) =>
      t.app.inject({ method: 'PATCH', url: '/api/auth/me/', payload, headers: bearer(account.access) });
    const renamed = await patch({ first_name: 'Zoë', last_name: 'Ørsted' });
    assert.equal(renamed.statusCode, 200);
    assert.equal(renamed.json().first_name, 'Zoë');
    assert.equal((await patch({ email: 'new-address@example.com' })).statusCode, 400);
    assert.equal(
      (await patch({ email: 'new-address@example.com', current_password: 'wrong one' })).statusCode,
      403,
    );
    const moved = await patch({ email: 'new-address@example.com', current_password: account.password });
    assert.equal(moved.statusCode, 200);
    assert.equal((await me(account.access)).json().email, 'new-address@example.com');
    const taken = await signUp(t.app);
    assert.equal(
      (await patch({ username: taken.user.username, current_password: account.password })).statusCode,
      409,
    );
  });

  it('changes the password and revokes every refresh token', async () => {
    const account = await signUp(t.app);
    const second = (
      await post('/api/auth/login/', { email: account.user.email, password: account.password })
    ).json();
    const change = (payload: object) => post('/api/auth/password/change/', payload, bearer(account.access));
    assert.equal(
      (await change({ current_password: 'wrong password', new_password: 'brand new pass' })).statusCode,
      403,
    );
    assert.equal(
      (await change({ current_password: account.password, new_password: 'short' })).statusCode,
      400,
    );
    assert.equal(
      (await change({ current_password: account.password, new_password: 'brand new pass' })).statusCode,
      204,
    );
    for (const refresh of [account.refresh, second.refresh]) {
      assert.equal((await post('/api/auth/refresh/', { refresh })).statusCode, 401);
    }
    assert.equal(
      (await post('/api/auth/login/', { email: account.user.email, password: account.password })).statusCode,
      401,
    );
    assert.equal(
      (await post('/api/auth/login/', { email: account.user.email, password: 'brand new pass' })).statusCode,
      200,
    );
  });

  it('picks up a role change at the next refresh', async () => {
    const account = await signUp(t.app);
    await ctx.db.query(`UPDATE users SET role = 'manager' WHERE id = $1`, [account.user.id]);
    const pair = (await post('/api/auth/refresh/', { refresh: account.refresh })).json();
    const payload = JSON.parse(Buffer.from(pair.access.split('.')[1], 'base64url').toString());
    assert.equal(payload.role, 'manager');
  });
});
