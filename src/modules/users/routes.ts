import { currentUser } from '../../platform/http/auth.js';
import { IdParam, problems } from '../../platform/http/schemas.js';
import type { HttpServer } from '../../platform/http/server.js';
import * as schemas from './schemas.js';
import type { UsersService } from './service.js';

/** Account administration: admins only, declared on each route. */
export async function usersRoutes(app: HttpServer, { users }: { users: UsersService }) {
  const admin = { auth: 'admin' as const };
  const security = [{ bearer: [] }];

  app.get(
    '/api/users/',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: 'Every account, in keyset pages by id (admin)',
        security,
        querystring: schemas.UserListQuery,
        response: { 200: schemas.UserList, ...problems(400, 401, 403) },
      },
    },
    (request) => users.listUsers({ ...request.query, limit: request.query.limit ?? 20 }),
  );

  app.get(
    '/api/users/:id/',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: 'One account (admin)',
        security,
        params: IdParam,
        response: { 200: schemas.User, ...problems(400, 401, 403, 404) },
      },
    },
    (request) => users.getUser(request.params.id),
  );

  app.patch(
    '/api/users/:id/',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: "Change an account's role (admin; not one's own)",
        security,
        params: IdParam,
        body: schemas.RoleChange,
        response: { 200: schemas.User, ...problems(400, 401, 403, 404, 409) },
      },
    },
    (request) => users.changeRole(currentUser(request).id, request.params.id, request.body.role),
  );
}
