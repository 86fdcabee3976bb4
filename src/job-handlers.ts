import path from 'node:path';
import type { Config } from './config.js';
import { createCatalogService } from './modules/catalog/service.js';
import { createImagesService, IMAGE_JOB, imageJobHandler } from './modules/images/service.js';
import type { Database } from './platform/db/index.js';
import type { JobHandler } from './platform/jobs/handler.js';
import { outboxQueue } from './platform/jobs/queue.js';
import { createMailJobHandler, MAIL_JOB } from './platform/mail/mail-job.js';
import type { Mailer } from './platform/mail/mailer.js';

/**
 * Every background job type and its handler: the composition root of the job side. The RabbitMQ worker and
 * the in-process runner both run exactly these, so a job behaves the same in both modes.
 */
export function createJobHandlers(deps: {
  config: Config;
  db: Database;
  mailer: Mailer;
}): Map<string, JobHandler> {
  const { config, db, mailer } = deps;
  const catalog = createCatalogService({ db });
  const images = createImagesService({
    db,
    catalog,
    queue: outboxQueue,
    mediaDir: path.join(config.dataDir, 'media'),
  });
  return new Map<string, JobHandler>([
    [MAIL_JOB, createMailJobHandler({ db, mailer })],
    [IMAGE_JOB, imageJobHandler(images)],
  ]);
}
