import { Type } from '@sinclair/typebox';
import type { Database } from '../db/index.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { Cursor, Limit, Page, problems, Timestamp } from '../http/schemas.js';
import type { HttpServer } from '../http/server.js';
import { listDeadJobs } from './outbox.js';

const DeadJob = Type.Object({
  id: Type.Integer(),
  type: Type.String(),
  payload: Type.Unknown(),
  attempts: Type.Integer(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

/** Operations: the jobs that kept failing, newest first, for a manager to inspect. */
export async function jobAdminRoutes(app: HttpServer, { db }: { db: Database }) {
  app.get(
    '/api/admin/jobs/dead/',
    {
      config: { auth: 'manager' },
      schema: {
        tags: ['operations'],
        summary: 'Background jobs that failed every attempt (status dead), newest first',
        description:
          'A job goes dead after its last retry (exponential backoff) or at once when retrying cannot help ' +
          '(malformed payload, unknown type). last_error holds the final failure.',
        security: [{ bearer: [] }],
        querystring: Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }),
        response: { 200: Page(DeadJob), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const before =
        request.query.cursor === undefined
          ? null
          : Number(decodeCursor(request.query.cursor, 'dead', ['int'])[0]);
      const rows = await listDeadJobs(db, before, limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page,
        next_cursor: rows.length > limit && last ? encodeCursor('dead', [last.id]) : null,
      };
    },
  );
}
