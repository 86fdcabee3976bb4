// A job runner process for the crash test: the real order and payment handlers, but a mailer that announces
// the send and then hangs, so the parent can SIGKILL it after the order committed and before the mail went.
import pino from 'pino';
import { registerOrderJobs } from '../../src/modules/orders/jobs.js';
import { createPaymentsService } from '../../src/modules/payments/service.js';
import { createTestPaymentProvider } from '../../src/modules/payments/test-provider.js';
import { createUsersService } from '../../src/modules/users/service.js';
import { openPostgres } from '../../src/platform/db/postgres.js';
import { createJobRegistry } from '../../src/platform/jobs/registry.js';
import { startJobRunner } from '../../src/platform/jobs/runner.js';

const db = await openPostgres({ url: process.env.DATABASE_URL as string, poolSize: 4 });
const registry = createJobRegistry();
const payments = createPaymentsService({ db, provider: createTestPaymentProvider() });
payments.registerJobs(registry);
registerOrderJobs(registry, {
  db,
  payments,
  users: createUsersService({ db }),
  stockChanged: async () => {},
  mailer: {
    send: async (mail) => {
      process.stdout.write(`SENDING ${mail.subject}\n`);
      await new Promise(() => {});
    },
    close: async () => {},
  },
});
await startJobRunner({ db, registry, logger: pino({ level: 'silent' }), leaseMs: 1_000, idlePollMs: 50 });
process.stdout.write('READY\n');
