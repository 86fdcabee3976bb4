import path from 'node:path';
import { parseArgs } from 'node:util';
import { bench } from './cli/bench.js';
import { ImportError, importCatalog } from './cli/import.js';
import { openRuntime } from './cli/runtime.js';
import { seed } from './cli/seed.js';
import { serve } from './cli/serve.js';
import { replayDead, worker } from './cli/worker.js';
import { ConfigError } from './config.js';
import { createCatalogService } from './modules/catalog/service.js';
import { createUsersService } from './modules/users/service.js';
import { cacheNamespace } from './platform/cache/namespace.js';
import { createResponseCache } from './platform/cache/response-cache.js';
import { ROLES, type Role } from './platform/http/auth.js';
import { AppError } from './platform/http/errors.js';

const USAGE = `Usage: bazaar COMMAND [options]

Commands:
  serve [--instances N]                          API and web app (embedded mode also runs the worker)
  worker                                         consume the RabbitMQ job queues (needs AMQP_URL)
  jobs:replay-dead [--type T] [--limit N]        move dead-lettered jobs back to their work queues
  migrate                                        apply pending migrations and exit
  seed [--products N] [--users N] [--orders N]   generate a realistic catalog and activity
  import DIR                                     load categories.csv and products.csv from DIR (see README)
  bench [SCENARIO]                               load-test scenarios on PostgreSQL and Redis (docs/performance_tuning.md)
  user:create --email E --password P [--username U] [--role customer|manager|admin]
`;

class UsageError extends Error {}

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) > 100_000_000) {
    throw new UsageError(`--${name} must be a whole number up to 100000000 (got "${value}")`);
  }
  return Number(value);
}

const commands: Record<string, (args: string[]) => Promise<void>> = {
  async serve(args) {
    const { values } = parseArgs({ args, options: { instances: { type: 'string' } } });
    const instances = count(values.instances, 'instances', 1);
    if (instances < 1 || instances > 64) throw new UsageError('--instances must be from 1 to 64');
    await serve(instances);
  },

  async worker() {
    await worker();
  },

  async 'jobs:replay-dead'(args) {
    const { values } = parseArgs({ args, options: { type: { type: 'string' }, limit: { type: 'string' } } });
    const limit = values.limit === undefined ? undefined : count(values.limit, 'limit', 0);
    const replayed = await replayDead({ type: values.type, limit });
    for (const [type, n] of replayed) process.stdout.write(`${type}: replayed ${n} dead job(s)\n`);
  },

  async migrate() {
    const { db, logger } = await openRuntime({ poolSize: 1 });
    await db.close();
    logger.info('the database schema is up to date');
  },

  async seed(args) {
    const { values } = parseArgs({
      args,
      options: { products: { type: 'string' }, users: { type: 'string' }, orders: { type: 'string' } },
    });
    const options = {
      products: count(values.products, 'products', 1_000),
      users: count(values.users, 'users', 0),
      orders: count(values.orders, 'orders', 0),
    };
    const { db } = await openRuntime({ poolSize: 2 });
    try {
      const summary = await seed(db, options);
      process.stdout.write(
        `Seeded ${summary.products} products in ${summary.categories} categories, ${summary.users} users and ` +
          `${summary.orders} orders in ${summary.seconds} s\n` +
          (summary.shopperPassword
            ? `Seeded shoppers (shopperN@example.com) share the password ${summary.shopperPassword}\n`
            : ''),
      );
    } finally {
      await db.close();
    }
  },

  async import(args) {
    const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
    if (positionals.length !== 1 || !positionals[0]) throw new UsageError('import needs one DIR');
    const { config, db } = await openRuntime({ poolSize: 2 });
    try {
      const summary = await importCatalog(db, path.resolve(positionals[0]), {
        databaseUrl: config.databaseUrl,
      });
      for (const reject of summary.rejects) {
        process.stderr.write(`${reject.file}:${reject.line}: ${reject.problem}\n`);
      }
      if (summary.rejected > summary.rejects.length) {
        process.stderr.write(`... and ${summary.rejected - summary.rejects.length} more rejected rows\n`);
      }
      process.stdout.write(
        `Imported ${summary.categories} categories and ${summary.products} products in ${summary.seconds} s; ` +
          `${summary.rejected} rows rejected\n`,
      );
      process.stdout.write(
        `Time by phase: ${summary.phases.map((phase) => `${phase.name} ${phase.seconds} s`).join(', ')}\n`,
      );
      if (config.redisUrl !== null) {
        // Running servers cache catalog answers in Redis: the new catalog replaces them everywhere.
        const cache = createResponseCache({ redisUrl: config.redisUrl, namespace: await cacheNamespace(db) });
        await cache.ready(2_000);
        await createCatalogService({ db, cache }).invalidateCatalog();
        await cache.close();
      }
      if (summary.rejected > 0) process.exitCode = 1;
    } finally {
      await db.close();
    }
  },

  async bench(args) {
    if (args.length > 1) throw new UsageError('bench takes at most one SCENARIO');
    process.exitCode = await bench(args);
  },

  async 'user:create'(args) {
    const { values } = parseArgs({
      args,
      options: {
        email: { type: 'string' },
        password: { type: 'string' },
        username: { type: 'string' },
        role: { type: 'string' },
      },
    });
    if (!values.email || !values.password) throw new UsageError('user:create needs --email and --password');
    const role = (values.role ?? 'customer') as Role;
    if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    const username = values.username ?? values.email.split('@')[0]?.replace(/[^A-Za-z0-9_.-]/g, '_') ?? '';
    const { db } = await openRuntime({ poolSize: 1 });
    try {
      const user = await createUsersService({ db }).createUser({
        email: values.email,
        password: values.password,
        username,
        role,
      });
      process.stdout.write(`Created ${user.role} ${user.username} <${user.email}> with id ${user.id}\n`);
    } finally {
      await db.close();
    }
  },
};

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (name === undefined || name === '--help' || name === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (!command) throw new UsageError(`Unknown command "${name}"`);
  await command(args);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (
    error instanceof ConfigError ||
    error instanceof UsageError ||
    error instanceof AppError ||
    error instanceof ImportError
  ) {
    process.stderr.write(`bazaar: ${error.message}\n`);
    if (error instanceof UsageError) process.stderr.write(USAGE);
  } else if (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    process.stderr.write(`bazaar: ${error.message}\n${USAGE}`);
  } else {
    process.stderr.write(
      `bazaar: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(error instanceof ConfigError || error instanceof UsageError ? 2 : 1);
});
