import { Type } from '@sinclair/typebox';
import { type Database, prepared } from '../db/index.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Mail, Mailer } from './mailer.js';

/** The job type that sends one email; queue it with the transaction whose outcome the mail announces. */
export const MAIL_JOB = 'mail.send';

/** Names one logical email ("order-12-confirmed"): it is sent at most once after a successful send. */
const MailKey = Type.String({ pattern: '^[A-Za-z0-9._-]{1,200}$' });

const MailJob = Type.Object({
  key: MailKey,
  to: Type.String({ minLength: 3 }),
  subject: Type.String(),
  text: Type.String(),
  html: Type.Optional(Type.String()),
});

/**
 * Sends the mail unless its key is recorded, then records the key. A redelivered job (RabbitMQ delivers at least
 * once; a runner's lease may expire) finds the record and sends nothing. No lock is held across the SMTP round
 * trip, so a sender stuck on a dead SMTP connection never blocks the retry that replaces it. The window left:
 * two deliveries of one job running at the same moment, or a crash between the SMTP server's acceptance and the
 * record; then the mail goes out twice with the same Message-ID (`<key@bazaar.mail>`), which receivers drop.
 */
export async function sendMailOnce(db: Database, mailer: Mailer, key: string, mail: Mail): Promise<boolean> {
  const { rows } = await db.query(prepared('SELECT 1 FROM sent_mails WHERE key = $1'), [key]);
  if (rows.length > 0) return false;
  await mailer.send({ ...mail, messageId: `<${key}@bazaar.mail>` });
  await db.query(prepared('INSERT INTO sent_mails (key) VALUES ($1) ON CONFLICT (key) DO NOTHING'), [key]);
  return true;
}

/** `mail.send`: any module may queue a ready-made mail under a key of its own. */
export function registerMailJob(registry: JobRegistry, { db, mailer }: { db: Database; mailer: Mailer }) {
  registry.register(MAIL_JOB, MailJob, async ({ key, ...mail }) => {
    await sendMailOnce(db, mailer, key, mail);
  });
}
