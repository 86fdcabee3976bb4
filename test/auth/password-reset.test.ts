import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PASSWORD_RESET_EMAIL_JOB } from '../../src/modules/auth/jobs.js';
import { purgeResetTokens } from '../../src/modules/auth/repo.js';
import type { JobRunner } from '../../src/platform/jobs/runner.js';
import { bearer, signUp } from '../helpers/accounts.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { fastRunner } from '../helpers/jobs.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';

/** The reset mail leaves from the job runner: wait for it (a few seconds at most). */
async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The token from a raw mail, whose text part may be quoted-printable. */
function tokenIn(raw: string): string | undefined {
  const text = raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return /token=([A-Za-z0-9_-]{43})/.exec(text)?.[1];
}

function mailFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, 'mail');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('.eml'))
        .map((name) => path.join(dir, name))
    : [];
}

forEachEngine('password reset', (ctx) => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '100', PUBLIC_URL: 'https://shop.example' } });
  });
  after(() => t.close());

  // Nested, so the runner stops before the engine's own after() closes the database.
  describe('with a job runner', () => {
    let runner: JobRunner;
    before(async () => {
      runner = await fastRunner(ctx.db, t.app.jobs);
    });
    after(() => runner.stop());

    const post = (url: string, payload: object) => t.app.inject({ method: 'POST', url, payload });

    async function requestReset(email: string): Promise<string> {
      const before = new Set(mailFiles(t.dataDir));
      assert.equal((await post('/api/auth/password/reset/', { email })).statusCode, 202);
      const file = await waitFor(
        () => mailFiles(t.dataDir).find((name) => !before.has(name)),
        'the reset mail',
      );
      const mail = readFileSync(file, 'utf8');
      assert.match(mail, new RegExp(`^To: ${email}$`, 'mi'));
      assert.match(mail, /^Subject: Reset your Bazaar password$/m);
      const token = tokenIn(mail);
      assert.ok(mail.replace(/=\r?\n/g, '').includes('https://shop.example/reset-password?token=3D'));
      assert.ok(token, 'the mail carries a token');
      return token;
    }

    it('mails a token that resets the password once, and ends every old session', async () => {
      const account = await signUp(t.app);
      const token = await requestReset(account.user.email);

      const { rows } = await ctx.db.query<{ token_hash: Uint8Array; ttl: number }>(
        `SELECT token_hash, extract(epoch FROM expires_at - created_at)::int AS ttl
       FROM password_reset_tokens WHERE user_id = $1`,
        [account.user.id],
      );
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.ttl, 3600);
      assert.ok(
        !Buffer.from(rows[0]?.token_hash ?? [])
          .toString('latin1')
          .includes(token),
        'stored hashed',
      );

      const reset = await post('/api/auth/password/reset/confirm/', { token, password: 'a fresh password' });
      assert.equal(reset.statusCode, 204);
      const again = await post('/api/auth/password/reset/confirm/', { token, password: 'yet another one' });
      assert.equal(again.statusCode, 400);
      assert.equal(again.json().type, '/problems/invalid-reset-token');

      assert.equal((await post('/api/auth/refresh/', { refresh: account.refresh })).statusCode, 401);
      const login = (password: string) => post('/api/auth/login/', { email: account.user.email, password });
      assert.equal((await login(account.password)).statusCode, 401);
      assert.equal((await login('a fresh password')).statusCode, 200);
    });

    it('sends the mail through the outbox, whose job holds no token that works, and sends it once', async () => {
      const account = await signUp(t.app);
      const token = await requestReset(account.user.email);
      const { rows } = await ctx.db.query<{ id: number; payload: unknown; status: string }>(
        `SELECT id, payload, status FROM outbox_jobs WHERE type = $1 AND (payload->>'user_id')::int = $2`,
        [PASSWORD_RESET_EMAIL_JOB, account.user.id],
      );
      assert.equal(rows.length, 1);
      assert.ok(!JSON.stringify(rows[0]?.payload).includes(token), 'the token is not in the job');
      await waitFor(async () => {
        const job = await ctx.db.query<{ status: string }>('SELECT status FROM outbox_jobs WHERE id = $1', [
          rows[0]?.id,
        ]);
        return job.rows[0]?.status === 'done' ? true : undefined;
      }, 'the job done');

      // Run the job again (a redelivery): the same mail is recorded as sent, so no second one leaves.
      const mails = mailFiles(t.dataDir).length;
      await ctx.db.query(`UPDATE outbox_jobs SET status = 'pending', run_at = now() WHERE id = $1`, [
        rows[0]?.id,
      ]);
      runner.wake();
      await waitFor(async () => {
        const job = await ctx.db.query<{ status: string; attempts: number }>(
          'SELECT status, attempts FROM outbox_jobs WHERE id = $1',
          [rows[0]?.id],
        );
        return job.rows[0]?.status === 'done' && job.rows[0].attempts === 2 ? true : undefined;
      }, 'the job run again');
      assert.equal(mailFiles(t.dataDir).length, mails);
    });

    it('purges reset tokens a day after they expired', async () => {
      const account = await signUp(t.app);
      await requestReset(account.user.email);
      await requestReset(account.user.email);
      await ctx.db.query(
        `UPDATE password_reset_tokens SET expires_at = now() - interval '25 hours'
       WHERE id = (SELECT min(id) FROM password_reset_tokens WHERE user_id = $1)`,
        [account.user.id],
      );
      assert.ok((await purgeResetTokens(ctx.db, 24)) >= 1);
      const { rows } = await ctx.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM password_reset_tokens WHERE user_id = $1',
        [account.user.id],
      );
      assert.equal(rows[0]?.n, 1);
    });

    it('answers 202 for an unknown email and mails nothing', async () => {
      const mails = mailFiles(t.dataDir).length;
      const { rows } = await ctx.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM password_reset_tokens',
      );
      assert.equal(
        (await post('/api/auth/password/reset/', { email: 'nobody@example.com' })).statusCode,
        202,
      );
      await sleep(200);
      assert.equal(mailFiles(t.dataDir).length, mails);
      const after = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM password_reset_tokens');
      assert.equal(after.rows[0]?.n, rows[0]?.n);
    });

    it('refuses an expired token, and a second link once the first was used', async () => {
      const account = await signUp(t.app);
      const first = await requestReset(account.user.email);
      const second = await requestReset(account.user.email);
      const expired = await requestReset(account.user.email);
      await ctx.db.query(
        `UPDATE password_reset_tokens SET expires_at = now() - interval '1 second'
       WHERE user_id = $1 AND id = (SELECT max(id) FROM password_reset_tokens WHERE user_id = $1)`,
        [account.user.id],
      );
      const confirm = (token: string) =>
        post('/api/auth/password/reset/confirm/', { token, password: 'new password 1' });
      assert.equal((await confirm(expired)).statusCode, 400);
      assert.equal((await confirm(first)).statusCode, 204);
      assert.equal((await confirm(second)).statusCode, 400);
    });

    it('keeps the access token working until it expires, but refresh dies (documented 15-minute window)', async () => {
      const account = await signUp(t.app);
      const token = await requestReset(account.user.email);
      await post('/api/auth/password/reset/confirm/', { token, password: 'new password 2' });
      const me = await t.app.inject({ method: 'GET', url: '/api/auth/me/', headers: bearer(account.access) });
      assert.equal(me.statusCode, 200);
      assert.equal((await post('/api/auth/refresh/', { refresh: account.refresh })).statusCode, 401);
    });
  });
});

forEachEngine('password reset over SMTP', (ctx) => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  before(async () => {
    smtp = await startSmtpSink();
    t = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '100', SMTP_URL: smtp.url } });
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  describe('with SMTP_URL set', () => {
    let runner: JobRunner;
    before(async () => {
      runner = await fastRunner(ctx.db, t.app.jobs);
    });
    after(() => runner.stop());

    it('sends the reset mail to the SMTP server, and its token works', async () => {
      const account = await signUp(t.app);
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/password/reset/',
        payload: { email: account.user.email },
      });
      assert.equal(res.statusCode, 202);
      const mail = await waitFor(
        () => smtp.received.find((item) => item.to.includes(account.user.email)),
        'SMTP',
      );
      assert.deepEqual(mailFiles(t.dataDir), [], 'no .eml file when SMTP is configured');
      const token = tokenIn(mail.raw);
      assert.ok(token);
      const confirm = await t.app.inject({
        method: 'POST',
        url: '/api/auth/password/reset/confirm/',
        payload: { token, password: 'over smtp 123' },
      });
      assert.equal(confirm.statusCode, 204);
    });
  });
});
