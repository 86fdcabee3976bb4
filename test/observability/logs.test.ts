import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Type } from '@sinclair/typebox';
import { createLogger, redactSecrets } from '../../src/platform/observability/logger.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertUser } from '../helpers/fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 'correct-horse-battery-staple-42';
const REFRESH = 'refresh-7f3a9c2e5b1d4f6a8c0e2b4d6f8a0c2e';

function collectingLogger(level: 'info' | 'warn' = 'info') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((line: string) => line !== ''),
      );
      done();
    },
  });
  return { lines, logger: createLogger(level, false, sink) };
}

describe('redactSecrets', () => {
  it('returns a clean object itself, untouched', () => {
    const line = { method: 'GET', route: '/api/products/:id/', status: 200, ms: 0.4, user: 7 };
    assert.equal(redactSecrets(line), line);
  });

  it('censors secrets two levels down in a copy, and leaves deeper keys and the original alone', () => {
    const logged = {
      password: 'a',
      body: { new_password: 'b' },
      items: [{ token: 'c' }],
      request: { headers: { authorization: 'Bearer d', accept: 'json' } },
      deep: { a: { b: { password: 'depth three' } } },
    };
    const copy = redactSecrets(logged);
    assert.deepEqual(copy, {
      password: '[redacted]',
      body: { new_password: '[redacted]' },
      items: [{ token: '[redacted]' }],
      request: { headers: { authorization: '[redacted]', accept: 'json' } },
      deep: { a: { b: { password: 'depth three' } } },
    });
    assert.equal(logged.request.headers.authorization, 'Bearer d');
  });

  it('keeps an Error an Error, with its message and stack, when one of its fields is censored', () => {
    const error = Object.assign(new Error('refused'), { token: 'secret-token' });
    const { err } = redactSecrets({ err: error });
    assert.ok(err instanceof Error);
    assert.equal(err.message, 'refused');
    assert.equal(err.stack, error.stack);
    assert.equal((err as Error & { token: string }).token, '[redacted]');
  });
});

forEachEngine('request logs', (ctx) => {
  let t: TestApp;
  let lines: string[];
  let userId: number;

  before(async () => {
    userId = (await insertUser(ctx.db)).id;
    const collected = collectingLogger();
    lines = collected.lines;
    t = await buildTestApp(ctx.db, {
      logger: collected.logger,
      // Handlers that log carelessly, as a hurried developer might: the logger must still keep secrets out.
      extend: (app) => {
        app.post(
          '/test/login/',
          {
            schema: {
              body: Type.Object(
                { email: Type.String(), password: Type.String() },
                { additionalProperties: false },
              ),
            },
          },
          async (request) => {
            request.log.info({ body: request.body }, 'login attempt');
            const answer = { access: t.tokenFor({ id: userId, role: 'customer' }), refresh: REFRESH };
            request.log.info({ answer }, 'login answer');
            return answer;
          },
        );
        app.get('/test/me/', { config: { auth: 'customer' } }, async (request) => {
          request.log.info({ headers: request.headers }, 'who is asking');
          request.log.info({ request: { headers: request.headers } }, 'nested headers');
          return { id: request.user?.id };
        });
      },
    });
  });
  after(() => t.close());

  it('keeps passwords, tokens and the authorization header out of every line', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/test/login/',
      payload: { email: 'someone@example.com', password: PASSWORD },
    });
    assert.equal(login.statusCode, 200);
    const { access } = login.json() as { access: string };
    const me = await t.app.inject({
      url: '/test/me/',
      headers: { authorization: `Bearer ${access}`, cookie: `session=${REFRESH}` },
    });
    assert.equal(me.statusCode, 200);

    const text = lines.join('\n');
    assert.match(text, /login attempt/, 'the careless lines were written');
    assert.match(text, /\[redacted\]/);
    for (const secret of [PASSWORD, access, REFRESH, 'Bearer']) {
      assert.ok(!text.includes(secret), `a log line holds ${secret.slice(0, 12)}...`);
    }
  });

  it('keeps them out after a real registration, login and authenticated request', async () => {
    const password = 'real-route-secret-9137';
    const name = `logs${Date.now()}`;
    const registered = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register/',
      payload: { username: name, email: `${name}@example.com`, password },
    });
    assert.equal(registered.statusCode, 201, registered.body);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: name, password },
    });
    assert.equal(login.statusCode, 200, login.body);
    const { access, refresh } = login.json() as { access: string; refresh: string };
    const me = await t.app.inject({ url: '/api/auth/me/', headers: { authorization: `Bearer ${access}` } });
    assert.equal(me.statusCode, 200);
    const text = lines.join('\n');
    assert.match(text, /"route":"\/api\/auth\/login\/"/);
    for (const secret of [password, access, refresh, 'Bearer']) {
      assert.ok(!text.includes(secret), `a log line holds ${secret.slice(0, 12)}...`);
    }
  });

  it('writes one request line with request id, user id, route, status and duration', async () => {
    const token = t.tokenFor({ id: userId, role: 'customer' });
    const before = lines.length;
    const res = await t.app.inject({
      url: '/test/me/',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'req-logs-1' },
    });
    assert.equal(res.statusCode, 200);
    const requestLines = lines
      .slice(before)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'request');
    assert.equal(requestLines.length, 1);
    const line = requestLines[0] as Record<string, unknown>;
    assert.equal(line.reqId, 'req-logs-1');
    assert.equal(line.user, userId);
    assert.equal(line.route, '/test/me/');
    assert.equal(line.method, 'GET');
    assert.equal(line.status, 200);
    assert.equal(typeof line.ms, 'number');
    assert.equal(line.level, 30);
  });

  it('logs an unknown route as unmatched, without the raw URL as its route', async () => {
    const before = lines.length;
    await t.app.inject('/api/no-such-route/12345');
    const line = lines
      .slice(before)
      .map((item) => JSON.parse(item) as Record<string, unknown>)
      .find((item) => item.msg === 'request');
    assert.equal(line?.route, 'unmatched');
    assert.equal(line?.status, 404);
  });

  it('drops request lines below the configured level', async () => {
    const { lines, logger } = collectingLogger('warn');
    const t = await buildTestApp(ctx.db, { logger });
    try {
      assert.equal((await t.app.inject('/api/categories/')).statusCode, 200);
      assert.equal(lines.filter((line) => line.includes('"msg":"request"')).length, 0);
      logger.warn('still written');
      assert.equal(lines.length, 1);
    } finally {
      await t.close();
    }
  });
});

describe("serve's batched log destination", () => {
  /** Runs Node with these arguments in the project's root, and gives back what it wrote to stdout, and its exit code. */
  function stdoutOf(args: string[]): Promise<{ stdout: string; code: number | null }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ stdout, code }));
    });
  }

  /** A process that logs `count` lines to its stdout pipe through createLogger's default destination, then ends. */
  function logInChild(
    count: number,
    end: 'exit' | 'crash' | 'idle',
  ): Promise<{ stdout: string; code: number | null }> {
    const script = `
      import { createLogger } from './src/platform/observability/logger.ts';
      const logger = createLogger('info', false);
      for (let i = 0; i < ${count}; i += 1) logger.info({ i }, 'line');
      if (${JSON.stringify(end)} === 'exit') process.exit(0);
      if (${JSON.stringify(end)} === 'crash') throw new Error('crash after logging');
      setTimeout(() => {}, 600);
    `;
    return stdoutOf(['--import', 'tsx', '--input-type=module', '-e', script]);
  }

  const numbers = (stdout: string) =>
    stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { i: number }).i);
  const upTo = (count: number) => Array.from({ length: count }, (_, i) => i);

  it('writes every line, in order, when the process exits at once', async () => {
    const { stdout, code } = await logInChild(3_000, 'exit');
    assert.equal(code, 0);
    assert.deepEqual(numbers(stdout), upTo(3_000));
  });

  it('writes every line logged before an uncaught exception', async () => {
    const { stdout, code } = await logInChild(500, 'crash');
    assert.notEqual(code, 0);
    assert.deepEqual(numbers(stdout), upTo(500));
  });

  it('writes the few lines of a quiet process within its 250 ms flush', async () => {
    const { stdout } = await logInChild(3, 'idle');
    assert.deepEqual(numbers(stdout), upTo(3));
  });

  it('keeps every line whole when the workers of a cluster share one stdout, and a lone process writes 64 KB', async (t) => {
    // Two workers log 20,000 lines each, as fast as they can, into the one pipe they inherit; a worker's chunks
    // are at most PIPE_BUF, so no line of one lands inside a line of the other.
    const perWorker = 20_000;
    // A file, not -e: cluster.fork() runs the primary's script again.
    const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-log-cluster-'));
    const file = path.join(dir, 'cluster.mjs');
    const logger = pathToFileURL(path.join(ROOT, 'src/platform/observability/logger.ts')).href;
    writeFileSync(
      file,
      `
      import cluster from 'node:cluster';
      import { createLogger, logChunkBytes } from '${logger}';
      if (cluster.isPrimary) {
        createLogger('info', false).info({ chunk: logChunkBytes() }, 'primary');
        for (let i = 0; i < 2; i += 1) cluster.fork();
      } else {
        const logger = createLogger('info', false);
        logger.info({ chunk: logChunkBytes() }, 'worker');
        const pad = 'x'.repeat(100);
        for (let i = 0; i < ${perWorker}; i += 1) logger.info({ w: cluster.worker.id, i, pad }, 'line');
        process.exit(0);
      }
    `,
    );
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { stdout } = await stdoutOf(['--import', 'tsx', file]);
    const lines = stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { msg: string; chunk?: number; w?: number; i?: number });
    assert.deepEqual(
      lines
        .filter((line) => line.chunk !== undefined)
        .map((line) => [line.msg, line.chunk])
        .sort(),
      [
        ['primary', 65_536],
        ['worker', 4_096],
        ['worker', 4_096],
      ],
    );
    for (const worker of [1, 2]) {
      const mine = lines.filter((line) => line.w === worker).map((line) => line.i);
      assert.deepEqual(mine, upTo(perWorker), `worker ${worker}: every line, whole and in order`);
    }
  });
});
