import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { exitOf, runCli, startCli, waitForOutput } from '../helpers/cli.js';
import { createPostgresDatabase, requireService } from '../helpers/engines.js';
import { freePort } from '../helpers/ports.js';
import { scratchDir } from '../helpers/scratch.js';

const tempDir = () => scratchDir('cli');

function getJson(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let data = '';
        res.on('data', (chunk) => {
          data += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
      })
      .on('error', reject);
  });
}

describe('bazaar CLI', () => {
  it('stops on a malformed variable with one line naming it', async () => {
    const result = await runCli(['migrate'], { PORT: 'eighty', DATA_DIR: tempDir() });
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr.trim(),
      'bazaar: Invalid configuration: PORT must be an integer from 0 to 65535 (got "eighty")',
    );
  });

  it('refuses an unknown command with the usage', async () => {
    const result = await runCli(['dance'], { DATA_DIR: tempDir() });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Unknown command "dance"/);
    assert.match(result.stderr, /Usage: bazaar/);
  });

  it('migrates, seeds and creates a user on the embedded database', async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir };
    assert.equal((await runCli(['migrate'], env)).code, 0);
    const seeded = await runCli(['seed', '--products', '300', '--users', '20', '--orders', '50'], env);
    assert.equal(seeded.code, 0, seeded.stderr);
    assert.match(seeded.stdout, /Seeded 300 products in \d+ categories, 20 users and 50 orders/);
    const created = await runCli(
      ['user:create', '--email', 'boss@example.com', '--password', 'long-enough-1', '--role', 'admin'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created admin boss <boss@example.com>/);
    const again = await runCli(
      ['user:create', '--email', 'BOSS@example.com', '--password', 'long-enough-1'],
      env,
    );
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already taken/);
  });

  it('migrates a PostgreSQL database, twice without change', async (t) => {
    const adminUrl = requireService('TEST_DATABASE_URL');
    if (!adminUrl) return t.skip('TEST_DATABASE_URL is not set');
    const database = await createPostgresDatabase(adminUrl);
    try {
      const env = { DATABASE_URL: database.url, JWT_SECRET: 'x'.repeat(40), DATA_DIR: tempDir() };
      const first = await runCli(['migrate'], env);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /001_init\.sql/);
      const second = await runCli(['migrate'], env);
      assert.equal(second.code, 0);
      assert.doesNotMatch(second.stdout, /applied migrations/);
    } finally {
      await database.drop();
    }
  });

  it('first start: migrates, loads the demo catalog, prints the manager once, serves products', async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const child = startCli(['serve'], { DATA_DIR: dataDir, PORT: String(port) });
    try {
      const output = await waitForOutput(child, /Bazaar is serving/);
      assert.match(
        output,
        /Demo manager account \(shown once\): email manager@bazaar\.localhost {2}password \S{12,}/,
      );
      const res = await getJson(`http://127.0.0.1:${port}/api/products/?limit=5`);
      assert.equal(res.status, 200);
      assert.equal((res.body as { items: unknown[] }).items.length, 5);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exitOf(child), 0);
    }
    const restart = startCli(['serve'], { DATA_DIR: dataDir, PORT: String(port) });
    try {
      const output = await waitForOutput(restart, /Bazaar is serving/);
      assert.doesNotMatch(output, /Demo manager account/);
    } finally {
      restart.kill('SIGINT');
      assert.equal(await exitOf(restart), 0);
    }
  });

  it('SIGTERM during a load of GETs: exit code 0 and no failed request', async () => {
    const port = await freePort();
    // RATE_LIMIT_FACTOR=0: this is a load from one address, which the global per-address limit would refuse.
    const child = startCli(['serve'], {
      DATA_DIR: tempDir(),
      PORT: String(port),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_FACTOR: '0',
    });
    await waitForOutput(child, /Demo manager account/);
    // Serving (and so past installing the signal handlers) once /healthz answers; a fixed sleep is not enough
    // on a loaded machine.
    for (let i = 0; i < 600; i += 1) {
      const status = await new Promise<number>((resolve) => {
        http
          .get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', () => resolve(0));
      });
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const outcomes = { ok: 0, failed: [] as string[], refusedAfterStop: 0 };
    let stopped = false;
    const request = () =>
      new Promise<'continue' | 'stop'>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/api/products/?limit=20', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) outcomes.ok += 1;
            else outcomes.failed.push(`status ${res.statusCode}`);
            resolve('continue');
          });
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          // A connection refused after the stop was never accepted: the listener was closed, as it should be.
          if (stopped && error.code === 'ECONNREFUSED') {
            outcomes.refusedAfterStop += 1;
            resolve('stop');
          } else {
            outcomes.failed.push(error.code ?? error.message);
            resolve('stop');
          }
        });
      });
    const worker = async () => {
      while ((await request()) === 'continue');
    };
    const workers = Array.from({ length: 16 }, worker);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stopped = true;
    child.kill('SIGTERM');
    const code = await exitOf(child);
    await Promise.all(workers);
    agent.destroy();
    assert.equal(code, 0);
    assert.deepEqual(outcomes.failed, []);
    assert.ok(outcomes.ok > 50, `only ${outcomes.ok} requests succeeded`);
  });
});
