import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import type { Database } from '../../src/platform/db/index.js';
import { createJobRegistry } from '../../src/platform/jobs/registry.js';
import { MAIL_JOB, registerMailJob } from '../../src/platform/mail/mail-job.js';
import { createMailer, type Mailer } from '../../src/platform/mail/mailer.js';
import { forEachEngine } from '../helpers/engines.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';

/** The registered mail.send handler, as a transport runs it. */
function mailJobRunner(db: Database, mailer: Mailer) {
  const registry = createJobRegistry();
  registerMailJob(registry, { db, mailer });
  const definition = registry.definition(MAIL_JOB);
  if (!definition) throw new Error('mail.send is not registered');
  return (payload: unknown, job: { id: number; attempt: number }) => definition.run(payload, job);
}

forEachEngine('email over SMTP', (ctx) => {
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let mailer: Mailer;

  before(async () => {
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, from: 'Bazaar <shop@bazaar.test>', dataDir: '/nonexistent' });
  });
  after(async () => {
    await mailer.close();
    await sink.close();
  });

  it('delivers a mail job over SMTP with its text, HTML and a Message-ID made from its key', async () => {
    sink.received.length = 0;
    const handler = mailJobRunner(ctx.db, mailer);
    await handler(
      {
        key: 'reset-1',
        to: 'ann@example.com',
        subject: 'Reset your password',
        text: 'Plain',
        html: '<p>Rich</p>',
      },
      { id: 1, attempt: 1 },
    );
    assert.equal(sink.received.length, 1);
    const mail = sink.received[0] as { raw: string; to: string[] };
    assert.deepEqual(mail.to, ['ann@example.com']);
    assert.match(mail.raw, /Subject: Reset your password/);
    assert.match(mail.raw, /multipart\/alternative/);
    assert.match(mail.raw, /<p>Rich<\/p>/);
    assert.match(mail.raw, /Message-ID: <reset-1@bazaar\.mail>/i);
  });

  it('runs a mail job any number of times and sends its mail once', async () => {
    sink.received.length = 0;
    const handler = mailJobRunner(ctx.db, mailer);
    const job = {
      key: 'order-7-confirmed',
      to: 'cy@example.com',
      subject: 'Order #7 confirmed',
      text: 'Thanks',
    };
    for (let attempt = 1; attempt <= 3; attempt += 1) await handler(job, { id: 1, attempt });
    assert.equal(sink.received.length, 1);
    assert.match(sink.received[0]?.raw ?? '', /Message-ID: <order-7-confirmed@bazaar\.mail>/i);
  });

  it('refuses a malformed mail job as permanent', async () => {
    const handler = mailJobRunner(ctx.db, mailer);
    await assert.rejects(handler({ to: 'x@example.com' }, { id: 2, attempt: 1 }), {
      name: 'PermanentJobError',
    });
  });
});

it('writes each mail as an .eml file under DATA_DIR/mail, and makes the folder again when it was removed', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bazaar-mail-'));
  const mailer = createMailer({ smtpUrl: null, from: 'Bazaar <shop@bazaar.test>', dataDir });
  const folder = path.join(dataDir, 'mail');
  const mailed = async () =>
    Promise.all((await readdir(folder)).map((name) => readFile(path.join(folder, name), 'utf8')));
  try {
    await mailer.send({ to: 'ada@example.com', subject: 'First', text: 'one' });
    assert.deepEqual(
      (await mailed()).map((mail) => /^Subject: (.*)$/m.exec(mail)?.[1]),
      ['First'],
    );
    await rm(folder, { recursive: true });
    await mailer.send({ to: 'ada@example.com', subject: 'Second', text: 'two' });
    const after = await mailed();
    assert.equal(after.length, 1, 'only the finished mail: no temporary file is left');
    assert.match(after[0] ?? '', /^Subject: Second$/m);
  } finally {
    await mailer.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
