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
 * Records the key and sends the mail in one transaction. A second run of the same key, even a concurrent one
 * (a job published twice and delivered to two consumers at once), waits on the uncommitted row and then finds
 * it, so it sends nothing; a send that fails rolls the record back for the retry. The remaining window is a
 * crash after the SMTP server accepted the mail and before the commit: then it goes out twice, with the same
 * Message-ID, so receivers can drop the copy. (On PGlite the transaction holds the one connection for the
 * SMTP round trip; embedded installs normally write .eml files, which takes a millisecond.)
 */
export function createMailJobHandler({ db, mailer }: { db: Database; mailer: Mailer }): JobHandler {
  return async (payload) => {
    if (!isMailJob(payload)) throw new PermanentJobError('mail job payload needs key, to, subject and text');
    const { key, ...mail } = payload;
    await db.transaction(async (tx) => {
      const { rows } = await tx.query(
        'INSERT INTO sent_mails (key) VALUES ($1) ON CONFLICT (key) DO NOTHING RETURNING key',
        [key],
      );
      if (rows.length === 0) return;
      await mailer.send({ ...mail, messageId: `<${key}@bazaar.mail>` });
    });
  };
}
