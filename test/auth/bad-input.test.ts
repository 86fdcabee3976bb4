import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bearer, type SignedUp, signUp } from '../helpers/accounts.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';

/**
 * Every auth endpoint fed malformed bodies: each must answer 400 problem+json and leave the database and the
 * mail folder exactly as they were.
 */

interface Endpoint {
  method: 'POST' | 'PATCH';
  url: string;
  valid: Record<string, string>;
  /** Fields whose format is constrained (names, emails, tokens): unicode and SQL-looking text are invalid there. */
  constrained: string[];
  optional?: string[];
  signedIn?: boolean;
}

const TOKEN = 'x'.repeat(43);

const ENDPOINTS: Endpoint[] = [
  {
    method: 'POST',
    url: '/api/auth/register/',
    valid: { username: 'valid_name', email: 'valid@example.com', password: 'long enough', first_name: 'Ann' },
    constrained: ['username', 'email'],
    optional: ['first_name'],
  },
  {
    method: 'POST',
    url: '/api/auth/login/',
    valid: { username: 'valid_name', password: 'long enough' },
    constrained: ['username'],
  },
  {
    method: 'POST',
    url: '/api/auth/login/',
    valid: { email: 'a@example.com', password: 'pw' },
    constrained: ['email'],
  },
  { method: 'POST', url: '/api/auth/refresh/', valid: { refresh: TOKEN }, constrained: ['refresh'] },
  { method: 'POST', url: '/api/auth/logout/', valid: { refresh: TOKEN }, constrained: ['refresh'] },
  {
    method: 'PATCH',
    url: '/api/auth/me/',
    valid: { username: 'valid_name2', current_password: 'whatever' },
    constrained: ['username'],
    signedIn: true,
  },
  {
    method: 'POST',
    url: '/api/auth/password/change/',
    valid: { current_password: 'old password', new_password: 'new password' },
    constrained: [],
    signedIn: true,
  },
  {
    method: 'POST',
    url: '/api/auth/password/reset/',
    valid: { email: 'a@example.com' },
    constrained: ['email'],
  },
  {
    method: 'POST',
    url: '/api/auth/password/reset/confirm/',
    valid: { token: TOKEN, password: 'long enough' },
    constrained: ['token'],
  },
];

const WRONG_TYPES: unknown[] = [42, null, true, ['a'], { nested: 'object' }];
const HOSTILE_TEXT = ['Zoë_ÅÄÖ_名前', "' OR 1=1; DROP TABLE users; --", 'admin\u0000', '😀😀😀😀'];

function badBodies(endpoint: Endpoint): Array<[string, unknown]> {
  const cases: Array<[string, unknown]> = [];
  for (const field of Object.keys(endpoint.valid)) {
    const { [field]: _dropped, ...missing } = endpoint.valid;
    // Leaving out an optional field (every field of a PATCH) is a valid, smaller request.
    if (endpoint.method === 'POST' && !endpoint.optional?.includes(field))
      cases.push([`without ${field}`, missing]);
    for (const value of WRONG_TYPES)
      cases.push([`${field} as ${JSON.stringify(value)}`, { ...endpoint.valid, [field]: value }]);
    cases.push([`${field} of 10,000 characters`, { ...endpoint.valid, [field]: 'a'.repeat(10_000) }]);
  }
  for (const field of endpoint.constrained) {
    for (const text of HOSTILE_TEXT)
      cases.push([`${field} = ${JSON.stringify(text)}`, { ...endpoint.valid, [field]: text }]);
  }
  cases.push(['an extra field', { ...endpoint.valid, role: 'admin' }]);
  cases.push(['an array body', [endpoint.valid]]);
  cases.push(['a string body', 'just text']);
  cases.push(['an empty object', {}]);
  return cases;
}

forEachEngine('auth endpoints refuse bad input', (ctx) => {
  let t: TestApp;
  let account: SignedUp;
  before(async () => {
    t = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '100' } });
    account = await signUp(t.app);
  });
  after(() => t.close());

  async function snapshot() {
    const { rows } = await ctx.db.query(
      `SELECT (SELECT count(*)::int FROM users) AS users,
              (SELECT max(updated_at) FROM users) AS users_changed,
              (SELECT count(*)::int FROM refresh_tokens) AS refresh_tokens,
              (SELECT count(*)::int FROM refresh_tokens WHERE revoked_at IS NOT NULL OR used_at IS NOT NULL) AS spent,
              (SELECT count(*)::int FROM password_reset_tokens) AS reset_tokens`,
    );
    const mailDir = path.join(t.dataDir, 'mail');
    return { ...rows[0], mails: existsSync(mailDir) ? readdirSync(mailDir).length : 0 };
  }

  for (const endpoint of ENDPOINTS) {
    describe(`${endpoint.method} ${endpoint.url} (${Object.keys(endpoint.valid).join(', ')})`, () => {
      it('answers every malformed body with 400 problem+json and writes nothing', async () => {
        const before = await snapshot();
        for (const [label, body] of badBodies(endpoint)) {
          const res = await t.app.inject({
            method: endpoint.method,
            url: endpoint.url,
            headers: {
              'content-type': 'application/json',
              ...(endpoint.signedIn ? bearer(account.access) : {}),
            },
            payload: JSON.stringify(body),
          });
          assert.equal(res.statusCode, 400, `${label}: ${res.body}`);
          assert.match(String(res.headers['content-type']), /^application\/problem\+json/, label);
          assert.equal(res.json().status, 400, label);
        }
        assert.deepEqual(await snapshot(), before);
      });

      it('answers broken JSON with 400 and a wrong media type with 415', async () => {
        const headers = endpoint.signedIn ? bearer(account.access) : {};
        const broken = await t.app.inject({
          method: endpoint.method,
          url: endpoint.url,
          headers: { ...headers, 'content-type': 'application/json' },
          payload: '{"username": ',
        });
        assert.equal(broken.statusCode, 400);
        const text = await t.app.inject({
          method: endpoint.method,
          url: endpoint.url,
          headers: { ...headers, 'content-type': 'application/xml' },
          payload: '<username>admin</username>',
        });
        assert.equal(text.statusCode, 415);
      });
    });
  }

  it('refuses a body over 1 MB with 413', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'a'.repeat(1_100_000), password: 'x' }),
    });
    assert.equal(res.statusCode, 413);
  });
});
