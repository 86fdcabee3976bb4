import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

it('reads TRUST_PROXY as addresses and CIDR ranges, and refuses anything else', () => {
  assert.deepEqual(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }).trustProxy, [
    '127.0.0.1',
    '10.0.0.0/8',
    '::1',
  ]);
  assert.deepEqual(loadConfig({}).trustProxy, []);
  for (const bad of ['true', 'nginx', '10.0.0.0/33', '1.2.3.4/8/9']) {
    assert.throws(
      () => loadConfig({ TRUST_PROXY: bad }),
      (error: unknown) => error instanceof ConfigError && error.variable === 'TRUST_PROXY',
    );
  }
});

it('reads REDIS_KEY_PREFIX with a default, and refuses spaces or wildcards', () => {
  assert.equal(loadConfig({}).redisKeyPrefix, 'bazaar:');
  assert.equal(loadConfig({ REDIS_KEY_PREFIX: 'shop-2:' }).redisKeyPrefix, 'shop-2:');
  for (const bad of ['has space', 'star*', 'x'.repeat(65)]) {
    assert.throws(() => loadConfig({ REDIS_KEY_PREFIX: bad }), ConfigError);
  }
});
