import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('has defaults for the embedded mode', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.databaseUrl, null);
    assert.equal(config.rateLimitFactor, 1);
    assert.equal(config.metricsPort, 9464);
    assert.equal(config.databasePoolSize, 20);
    assert.equal(config.databasePreparedStatements, true);
    assert.equal(config.publicUrl, 'http://127.0.0.1:3000');
  });

  const bad: [Record<string, string>, string][] = [
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x/y', JWT_SECRET: 'x'.repeat(32) }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url', JWT_SECRET: 'x'.repeat(32) }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://localhost/bazaar' }, 'JWT_SECRET'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ DATABASE_REPLICA_URLS: 'postgres://replica/bazaar' }, 'DATABASE_REPLICA_URLS'],
    [{ REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL'],
    [{ AMQP_URL: 'redis://localhost' }, 'AMQP_URL'],
    [{ SMTP_URL: 'ftp://mail' }, 'SMTP_URL'],
    [{ MAIL_FROM: 'nobody' }, 'MAIL_FROM'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ CORS_ORIGINS: 'https://shop.example/path' }, 'CORS_ORIGINS'],
    [{ RATE_LIMIT_FACTOR: '-1' }, 'RATE_LIMIT_FACTOR'],
    [{ RATE_LIMIT_FACTOR: 'fast' }, 'RATE_LIMIT_FACTOR'],
    [{ PUBLIC_URL: 'shop.example' }, 'PUBLIC_URL'],
    [{ METRICS_PORT: 'nine' }, 'METRICS_PORT'],
    [{ DATABASE_POOL_SIZE: '0' }, 'DATABASE_POOL_SIZE'],
    [{ DATABASE_PREPARED_STATEMENTS: 'sometimes' }, 'DATABASE_PREPARED_STATEMENTS'],
  ];
  for (const [env, variable] of bad) {
    it(`stops on a malformed ${variable} with one line naming it`, () => {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.variable === variable &&
          error.message.startsWith(`Invalid configuration: ${variable} `) &&
          !error.message.includes('\n'),
      );
    });
  }

  it('reads the scaled mode', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://db/bazaar',
      DATABASE_REPLICA_URLS: 'postgres://r1/bazaar, postgres://r2/bazaar',
      JWT_SECRET: 'k'.repeat(40),
      REDIS_URL: 'redis://cache:6379',
      CORS_ORIGINS: 'https://shop.example,https://admin.example/',
      RATE_LIMIT_FACTOR: '0',
      DATABASE_POOL_SIZE: '40',
      DATABASE_PREPARED_STATEMENTS: 'false',
    });
    assert.equal(config.databasePoolSize, 40);
    assert.equal(config.databasePreparedStatements, false);
    assert.deepEqual(config.databaseReplicaUrls, ['postgres://r1/bazaar', 'postgres://r2/bazaar']);
    assert.deepEqual(config.corsOrigins, ['https://shop.example', 'https://admin.example']);
    assert.equal(config.rateLimitFactor, 0);
  });
});
