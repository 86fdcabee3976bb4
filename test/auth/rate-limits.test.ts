import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { signUp } from '../helpers/accounts.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine, requireService } from '../helpers/engines.js';

const redisUrl = requireService('TEST_REDIS_URL');

function login(t: TestApp, body: object, address = '127.0.0.1') {
  return t.app.inject({ method: 'POST', url: '/api/auth/login/', payload: body, remoteAddress: address });
}

function assertRateLimited(
  res: { statusCode: number; headers: Record<string, unknown>; json(): { type: string } },
  windowSeconds = 15 * 60,
) {
  assert.equal(res.statusCode, 429);
  assert.equal(res.json().type, '/problems/rate-limited');
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(
    Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= windowSeconds,
    `Retry-After ${retryAfter}`,
  );
}

forEachEngine('rate limits', (ctx) => {
  describe('in one process (no Redis)', () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(ctx.db);
    });
    after(() => t.close());

    it('answers the 11th failed login for one account with 429, even with the right password', async () => {
      const account = await signUp(t.app);
      // Ten addresses, so only the per-account budget is spent.
      for (let i = 0; i < 10; i += 1) {
        const res = await login(
          t,
          { username: account.user.username, password: 'wrong guess' },
          `10.0.0.${i}`,
        );
        assert.equal(res.statusCode, 401);
      }
      const eleventh = await login(
        t,
        { username: account.user.username, password: account.password },
        '10.0.1.1',
      );
      assertRateLimited(eleventh);
      // The account is the same whether it is named by username or by email.
      assertRateLimited(
        await login(t, { email: account.user.email, password: account.password }, '10.0.1.2'),
      );
    });

    it('answers the 11th failed login from one address with 429, whatever the accounts', async () => {
      for (let i = 0; i < 10; i += 1) {
        const res = await login(t, { username: `guess_${i}`, password: 'wrong guess' }, '192.0.2.7');
        assert.equal(res.statusCode, 401);
      }
      assertRateLimited(await login(t, { username: 'guess_new', password: 'wrong guess' }, '192.0.2.7'));
      assert.equal(
        (await login(t, { username: 'guess_new', password: 'wrong guess' }, '192.0.2.8')).statusCode,
        401,
      );
    });

    it('does not count successful logins', async () => {
      const account = await signUp(t.app);
      for (let i = 0; i < 15; i += 1) {
        const res = await login(
          t,
          { username: account.user.username, password: account.password },
          '198.51.100.1',
        );
        assert.equal(res.statusCode, 200);
      }
    });

    it('limits registrations per address (20 an hour)', async () => {
      const register = (i: number) =>
        t.app.inject({
          method: 'POST',
          url: '/api/auth/register/',
          remoteAddress: '203.0.113.9',
          payload: {
            username: `reg_${i}_${randomBytes(3).toString('hex')}`,
            email: `r${i}${randomBytes(3).toString('hex')}@example.com`,
            password: 'long enough',
          },
        });
      for (let i = 0; i < 20; i += 1) assert.equal((await register(i)).statusCode, 201);
      assertRateLimited(await register(20), 3600);
    });

    it('limits password reset requests per address (10 an hour)', async () => {
      const reset = () =>
        t.app.inject({
          method: 'POST',
          url: '/api/auth/password/reset/',
          remoteAddress: '203.0.113.10',
          payload: { email: 'nobody@example.com' },
        });
      for (let i = 0; i < 10; i += 1) assert.equal((await reset()).statusCode, 202);
      assertRateLimited(await reset(), 3600);
    });
  });

  describe('client addresses behind a proxy', () => {
    let direct: TestApp;
    let proxied: TestApp;
    before(async () => {
      direct = await buildTestApp(ctx.db);
      proxied = await buildTestApp(ctx.db, { env: { TRUST_PROXY: '127.0.0.1' } });
    });
    after(() => Promise.all([direct.close(), proxied.close()]));

    const reset = (t: TestApp, forwardedFor: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/auth/password/reset/',
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': forwardedFor },
        payload: { email: 'nobody@example.com' },
      });

    it('ignores a forged X-Forwarded-For unless TRUST_PROXY names the peer', async () => {
      for (let i = 0; i < 10; i += 1) assert.equal((await reset(direct, `203.0.113.${i}`)).statusCode, 202);
      assertRateLimited(await reset(direct, '203.0.113.99'), 3600);
    });

    it('counts each forwarded client apart behind a trusted proxy', async () => {
      for (let i = 0; i < 11; i += 1) assert.equal((await reset(proxied, `203.0.113.${i}`)).statusCode, 202);
    });
  });

  describe('the global per-address limit', () => {
    let t: TestApp;
    before(async () => {
      // 600 a minute scaled down to 6, to reach it quickly.
      t = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '0.01' } });
    });
    after(() => t.close());

    it('answers requests over the budget with 429 and leaves health checks and docs alone', async () => {
      const get = (url: string) => t.app.inject({ method: 'GET', url, remoteAddress: '198.51.100.77' });
      for (let i = 0; i < 6; i += 1) assert.equal((await get('/api/categories/')).statusCode, 200);
      const over = await get('/api/categories/');
      assertRateLimited(over, 60);
      assert.equal((await get('/healthz')).statusCode, 200);
      assert.equal((await get('/openapi.json')).statusCode, 200);
      const other = await t.app.inject({
        method: 'GET',
        url: '/api/categories/',
        remoteAddress: '198.51.100.78',
      });
      assert.equal(other.statusCode, 200);
    });

    it('counts requests with missing or forged tokens before refusing them', async () => {
      const me = (authorization?: string) =>
        t.app.inject({
          method: 'GET',
          url: '/api/auth/me/',
          remoteAddress: '198.51.100.79',
          headers: authorization ? { authorization } : {},
        });
      for (let i = 0; i < 3; i += 1) assert.equal((await me()).statusCode, 401);
      for (let i = 0; i < 3; i += 1) assert.equal((await me('Bearer forged.token.here')).statusCode, 401);
      assertRateLimited(await me('Bearer forged.token.here'), 60);
    });
  });

  describe('RATE_LIMIT_FACTOR=0', () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '0' } });
    });
    after(() => t.close());

    it('turns every limit off', async () => {
      for (let i = 0; i < 15; i += 1) {
        assert.equal(
          (await login(t, { username: 'nobody_at_all', password: 'wrong guess' })).statusCode,
          401,
        );
      }
      const res = await t.app.inject({ method: 'GET', url: '/api/categories/' });
      assert.equal(res.headers['x-ratelimit-limit'], undefined);
    });
  });

  describe('shared through Redis by two instances', {
    skip: redisUrl ? false : 'TEST_REDIS_URL is not set',
  }, () => {
    const prefix = `test-limits-${randomBytes(6).toString('hex')}:`;
    let first: TestApp;
    let second: TestApp;
    let redis: Redis;
    before(async () => {
      const env = { REDIS_URL: redisUrl ?? '', REDIS_KEY_PREFIX: prefix, RATE_LIMIT_FACTOR: '1' };
      first = await buildTestApp(ctx.db, { env });
      second = await buildTestApp(ctx.db, { env });
      redis = new Redis(redisUrl ?? '');
    });
    after(async () => {
      await Promise.all([first.close(), second.close()]);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });

    it('answers the 11th failed login with 429 when the attempts alternate between the instances', async () => {
      const account = await signUp(first.app);
      for (let i = 0; i < 10; i += 1) {
        const app = i % 2 === 0 ? first : second;
        const res = await login(
          app,
          { username: account.user.username, password: 'wrong guess' },
          `10.1.0.${i}`,
        );
        assert.equal(res.statusCode, 401);
      }
      assertRateLimited(
        await login(first, { username: account.user.username, password: account.password }, '10.1.1.1'),
      );
      assertRateLimited(
        await login(second, { username: account.user.username, password: account.password }, '10.1.1.2'),
      );
    });

    it('shares the per-address budget of failed logins too', async () => {
      for (let i = 0; i < 10; i += 1) {
        const app = i % 2 === 0 ? second : first;
        assert.equal(
          (await login(app, { username: `spray_${i}`, password: 'wrong guess' }, '10.2.0.1')).statusCode,
          401,
        );
      }
      assertRateLimited(await login(first, { username: 'spray_x', password: 'wrong guess' }, '10.2.0.1'));
    });

    it('keeps the global limit out of Redis: API reads cost no Redis round trip', async () => {
      for (let i = 0; i < 5; i += 1) await first.app.inject({ method: 'GET', url: '/api/categories/' });
      const keys = await redis.keys(`${prefix}*`);
      assert.ok(keys.length > 0, 'the shared counters live in Redis');
      assert.deepEqual(
        keys.filter((key) => key.includes('global')),
        [],
      );
      assert.ok(keys.every((key) => key.startsWith(`${prefix}ratelimit:`)));
    });
  });

  describe('when Redis is unreachable', () => {
    let t: TestApp;
    before(async () => {
      // Port 1 refuses connections: the shared limits fall back to this process's memory.
      t = await buildTestApp(ctx.db, { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    });
    after(() => t.close());

    it('still serves and still stops the 11th failed login', async () => {
      for (let i = 0; i < 10; i += 1) {
        assert.equal(
          (await login(t, { username: 'no_redis', password: 'wrong guess' }, `10.3.0.${i}`)).statusCode,
          401,
        );
      }
      assertRateLimited(await login(t, { username: 'no_redis', password: 'wrong guess' }, '10.3.1.1'));
    });
  });

  describe('when Redis comes back', { skip: redisUrl ? false : 'TEST_REDIS_URL is not set' }, () => {
    let t: TestApp;
    let server: ChildProcess | undefined;
    let port = 0;
    before(async () => {
      port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port: free } = probe.address() as AddressInfo;
          probe.close(() => resolve(free));
        });
      });
      t = await buildTestApp(ctx.db, { env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    });
    after(async () => {
      await t.close();
      server?.kill();
    });

    it('counts in memory while Redis is down and in Redis again once it answers', async () => {
      const fail = () => login(t, { username: 'comes_back', password: 'wrong guess' }, '10.4.0.1');
      assert.equal((await fail()).statusCode, 401);
      // A Redis of this test's own, on the port the app has been trying: the shared one must not be stopped.
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        let keys: string[] = [];
        for (let i = 0; i < 50 && keys.length === 0; i += 1) {
          await sleep(200);
          // 401 or, after ten failures counted in memory, 429: either way the attempt is counted.
          assert.ok([401, 429].includes((await fail()).statusCode));
          keys = await redis.keys('*loginFailuresPerAccount*').catch(() => []);
        }
        assert.ok(keys.length > 0, 'the failures reached Redis after it came back');
      } finally {
        redis.disconnect();
      }
    });
  });
});
