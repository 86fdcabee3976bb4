import type { Database } from '../db/index.js';
import { type JobHandler, PermanentJobError } from '../jobs/handler.js';
import type { Mail, Mailer } from './mailer.js';

/** The job type that sends one email; queue it with the transaction whose outcome the mail announces. */
export const MAIL_JOB = 'mail.send';

export interface MailJob extends Mail {
  /** Names the logical email ("order-12-confirmed"; letters, digits, . _ -): sent at most once after success. */
  key: string;
}

function isMailJob(value: unknown): value is MailJob {
  const job = value as Partial<MailJob> | null;
  return (
    typeof job?.key === 'string' &&
    /^[A-Za-z0-9._-]{1,200}$/.test(job.key) &&
    typeof job.to === 'string' &&
    typeof job.subject === 'string' &&
    typeof job.text === 'string' &&
    (job.html === undefined || typeof job.html === 'string')
  );
}

/**
 * Sends the mail unless its key is already recorded, then records it. Redeliveries after a finished send change
 * nothing; a worker killed between the SMTP server's acceptance and the record (a window of one round trip)
 * would send it again, which is why keys also go out as the Message-ID receivers can deduplicate on.
 */
export function createMailJobHandler({ db, mailer }: { db: Database; mailer: Mailer }): JobHandler {
  return async (payload) => {
    if (!isMailJob(payload)) throw new PermanentJobError('mail job payload needs key, to, subject and text');
    const { rows } = await db.query('SELECT 1 FROM sent_mails WHERE key = $1', [payload.key]);
    if (rows.length > 0) return;
    const { key, ...mail } = payload;
    await mailer.send({ ...mail, messageId: `<${key}@bazaar.mail>` });
    await db.query('INSERT INTO sent_mails (key) VALUES ($1) ON CONFLICT (key) DO NOTHING', [key]);
  };
}
