import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, it } from 'node:test';
import { createSigner } from 'fast-jwt';
import { bearer, signUp } from '../helpers/accounts.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct, insertUser } from '../helpers/fixtures.js';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

const FORGERIES = [
  'a tampered payload (role raised to admin)',
  'a wrong signature',
  'alg none',
  'alg none with a signature',
  'another algorithm (HS512) with the right secret',
  'an expired token',
  'an unknown role',
  'a non-numeric subject',
  'garbage',
] as const;

forEachEngine('access tokens and roles', (ctx) => {
  let t: TestApp;
  let customer: { id: number; role: 'customer' };
  let admin: { id: number; role: 'admin' };
  before(async () => {
    t = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '100' } });
    customer = (await insertUser(ctx.db, 'customer')) as typeof customer;
    admin = (await insertUser(ctx.db, 'admin')) as typeof admin;
  });
  after(() => t.close());

  const get = (url: string, token?: string) =>
    t.app.inject({ method: 'GET', url, headers: token === undefined ? {} : bearer(token) });

  const forged = (): Record<(typeof FORGERIES)[number], string> => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: String(customer.id), role: 'customer', iat: now, exp: now + 900 };
    const hs256 = (secret: string, header: object, payload: object) => {
      const head = `${b64(header)}.${b64(payload)}`;
      return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
    };
    const valid = t.tokenFor(customer);
    const [head, , signature] = valid.split('.');
    return {
      'a tampered payload (role raised to admin)': `${head}.${b64({ ...claims, role: 'admin' })}.${signature}`,
      'a wrong signature': hs256('another secret that is long enough!', { alg: 'HS256', typ: 'JWT' }, claims),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
      'alg none with a signature': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.${signature}`,
      'another algorithm (HS512) with the right secret': createSigner({
        key: t.jwtSecret,
        algorithm: 'HS512',
      })(claims),
      'an expired token': createSigner({
        key: t.jwtSecret,
        algorithm: 'HS256',
        clockTimestamp: Date.now() - 3_600_000,
        expiresIn: 900_000,
      })({
        sub: String(customer.id),
        role: 'customer',
      }),
      'an unknown role': hs256(t.jwtSecret, { alg: 'HS256', typ: 'JWT' }, { ...claims, role: 'root' }),
      'a non-numeric subject': hs256(t.jwtSecret, { alg: 'HS256', typ: 'JWT' }, { ...claims, sub: 'admin' }),
      garbage: 'not.a.token',
    };
  };

  it('accepts a valid access token', async () => {
    const res = await get('/api/users/', t.tokenFor(admin));
    assert.equal(res.statusCode, 200);
  });

  for (const label of FORGERIES) {
    it(`refuses ${label} with 401`, async () => {
      const token = forged()[label];
      for (const url of ['/api/auth/me/', '/api/users/']) {
        const res = await get(url, token);
        assert.equal(res.statusCode, 401, `${url}: ${res.body}`);
        assert.equal(res.json().type, '/problems/invalid-token');
      }
    });
  }

  it('refuses a missing token and a malformed Authorization header with 401', async () => {
    assert.equal((await get('/api/auth/me/')).statusCode, 401);
    for (const header of ['Basic YWRtaW46YWRtaW4=', 'Bearer', `bearer  ${t.tokenFor(customer)}`]) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/auth/me/',
        headers: { authorization: header },
      });
      assert.equal(res.statusCode, 401, header);
    }
  });

  it('answers a token of an account that no longer exists with 404 on /me, never another account', async () => {
    const gone = await insertUser(ctx.db, 'customer');
    await ctx.db.query('DELETE FROM users WHERE id = $1', [gone.id]);
    assert.equal((await get('/api/auth/me/', t.tokenFor(gone))).statusCode, 404);
  });

  it('refuses a customer and a manager on the admin routes with 403', async () => {
    const manager = await insertUser(ctx.db, 'manager');
    for (const user of [customer, manager]) {
      for (const url of ['/api/users/', `/api/users/${admin.id}/`]) {
        const res = await get(url, t.tokenFor(user));
        assert.equal(res.statusCode, 403, `${user.role} ${url}`);
      }
      const patch = await t.app.inject({
        method: 'PATCH',
        url: `/api/users/${user.id}/`,
        payload: { role: 'admin' },
        headers: bearer(t.tokenFor(user)),
      });
      assert.equal(patch.statusCode, 403);
    }
    const { rows } = await ctx.db.query<{ role: string }>('SELECT role FROM users WHERE id = $1', [
      customer.id,
    ]);
    assert.equal(rows[0]?.role, 'customer');
  });

  it('refuses a customer on the manager routes with 403 and writes nothing', async () => {
    const categoryId = await insertCategory(ctx.db, 'Role test category');
    const productId = await insertProduct(ctx.db, { categoryId, name: 'Role test product' });
    const token = t.tokenFor(customer);
    const attempts = [
      { method: 'POST' as const, url: '/api/categories/', payload: { name: 'Sneaky' } },
      {
        method: 'POST' as const,
        url: '/api/products/',
        payload: { name: 'Sneaky', price: '1.00', stock_quantity: 1, category_id: categoryId },
      },
      { method: 'PATCH' as const, url: `/api/products/${productId}/`, payload: { price: '0.01' } },
      { method: 'DELETE' as const, url: `/api/products/${productId}/` },
    ];
    for (const attempt of attempts) {
      const res = await t.app.inject({ ...attempt, headers: bearer(token) });
      assert.equal(res.statusCode, 403, `${attempt.method} ${attempt.url}: ${res.body}`);
    }
    const { rows } = await ctx.db.query<{ price: string; deleted_at: Date | null }>(
      'SELECT price, deleted_at FROM products WHERE id = $1',
      [productId],
    );
    assert.deepEqual(rows[0], { price: '10.00', deleted_at: null });
    const sneaky = await ctx.db.query(`SELECT 1 FROM categories WHERE name = 'Sneaky'`);
    assert.equal(sneaky.rows.length, 0);
  });

  it("answers another user's review with 404 and leaves it as it was", async () => {
    const categoryId = await insertCategory(ctx.db, 'Review test category');
    const productId = await insertProduct(ctx.db, { categoryId });
    const alice = await signUp(t.app);
    const bob = await signUp(t.app);
    const created = await t.app.inject({
      method: 'POST',
      url: `/api/products/${productId}/reviews/`,
      payload: { rating: 5, comment: 'Lovely' },
      headers: bearer(alice.access),
    });
    assert.equal(created.statusCode, 201, created.body);
    const reviewId = created.json().id;
    const edit = await t.app.inject({
      method: 'PATCH',
      url: `/api/reviews/${reviewId}/`,
      payload: { rating: 1 },
      headers: bearer(bob.access),
    });
    assert.equal(edit.statusCode, 404);
    const remove = await t.app.inject({
      method: 'DELETE',
      url: `/api/reviews/${reviewId}/`,
      headers: bearer(bob.access),
    });
    assert.equal(remove.statusCode, 404);
    const { rows } = await ctx.db.query<{ rating: number }>('SELECT rating FROM reviews WHERE id = $1', [
      reviewId,
    ]);
    assert.equal(rows[0]?.rating, 5);
  });

  it('shows each caller only their own profile on /me', async () => {
    const alice = await signUp(t.app);
    const bob = await signUp(t.app);
    assert.equal((await get('/api/auth/me/', alice.access)).json().id, alice.user.id);
    assert.equal((await get('/api/auth/me/', bob.access)).json().id, bob.user.id);
    // Bob's refresh token logs out Bob's session only.
    await t.app.inject({ method: 'POST', url: '/api/auth/logout/', payload: { refresh: bob.refresh } });
    const aliceRefresh = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh/',
      payload: { refresh: alice.refresh },
    });
    assert.equal(aliceRefresh.statusCode, 200);
  });

  it('lets an admin page through every account, by id, without password hashes', async () => {
    for (let i = 0; i < 5; i += 1) await insertUser(ctx.db, 'customer');
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/users/?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await get(url, t.tokenFor(admin));
      assert.equal(res.statusCode, 200);
      assert.doesNotMatch(res.body, /password|not-a-hash|argon2/);
      const body = res.json();
      seen.push(...body.items.map((user: { id: number }) => user.id));
      cursor = body.next_cursor;
    } while (cursor !== null);
    const { rows } = await ctx.db.query<{ id: number }>('SELECT id FROM users ORDER BY id');
    assert.deepEqual(
      seen,
      rows.map((row) => row.id),
    );
    const managers = await get('/api/users/?role=admin', t.tokenFor(admin));
    assert.ok(managers.json().items.every((user: { role: string }) => user.role === 'admin'));
    assert.equal((await get('/api/users/?cursor=bm9wZQ', t.tokenFor(admin))).statusCode, 400);
  });

  it('lets an admin read and change a role, but not their own; unknown ids are 404', async () => {
    const target = await insertUser(ctx.db, 'customer');
    const token = t.tokenFor(admin);
    assert.equal((await get(`/api/users/${target.id}/`, token)).json().role, 'customer');
    const patch = (id: number, role: string) =>
      t.app.inject({ method: 'PATCH', url: `/api/users/${id}/`, payload: { role }, headers: bearer(token) });
    const promoted = await patch(target.id, 'manager');
    assert.equal(promoted.statusCode, 200);
    assert.equal(promoted.json().role, 'manager');
    assert.equal((await patch(target.id, 'superuser')).statusCode, 400);
    assert.equal((await patch(admin.id, 'customer')).statusCode, 409);
    assert.equal((await patch(2_000_000_000, 'manager')).statusCode, 404);
    assert.equal((await get('/api/users/2000000000/', token)).statusCode, 404);
    assert.equal((await get('/api/users/abc/', token)).statusCode, 400);
  });
});
