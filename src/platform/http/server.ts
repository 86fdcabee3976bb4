import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RawServerDefault,
} from 'fastify';
import type { Logger } from 'pino';
import { installErrorHandling } from './error-handler.js';
import { ProblemSchema } from './schemas.js';
import { createValidatorCompiler } from './validation.js';

export type HttpServer = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** An incoming X-Request-Id is kept when it looks like one; otherwise the request gets a UUID. */
export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Answers a request before Fastify does; returns false to leave it to Fastify. */
export type FrontDoorHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

declare module 'fastify' {
  interface FastifyInstance {
    installFrontDoor(handler: FrontDoorHandler): void;
  }
}

export interface HttpServerOptions {
  logger: Logger;
  publicUrl: string;
  version: string;
  /** Proxies whose X-Forwarded-For is believed (request.ip, hence per-address rate limits); none by default. */
  trustProxy?: string[];
}

/**
 * The Fastify instance every entry point shares (serve and the tests): strict validation (unknown fields are a
 * 400, nothing is silently dropped), explicit timeouts, one log line per request carrying its id, problem+json
 * errors, and the OpenAPI document built from the route schemas.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  // A request goes to the front door first (front-door.ts), once one is installed, and to Fastify unless the
  // front door answered it. Once the server stops listening (the drain before a stop, shutdown.ts), every
  // request goes to Fastify, whose answers then carry `Connection: close`.
  let frontDoor: FrontDoorHandler | null = null;
  const timeouts = { connectionTimeout: 30_000, keepAliveTimeout: 72_000, requestTimeout: 30_000 };
  const app = Fastify({
    serverFactory: (handler) => {
      const server = createServer((request, response) => {
        if (frontDoor !== null && server.listening) {
          try {
            if (frontDoor(request, response)) return;
          } catch (error) {
            // A fault of the front door must cost a request nothing: Fastify answers it unless it was answered.
            options.logger.error(
              { err: error, url: request.url },
              'front door failed; passing the request on',
            );
            if (response.headersSent) return;
          }
        }
        handler(request, response);
      });
      // Fastify sets these on a server it creates itself, not on one from a factory.
      server.keepAliveTimeout = timeouts.keepAliveTimeout;
      server.requestTimeout = timeouts.requestTimeout;
      server.setTimeout(timeouts.connectionTimeout);
      return server;
    },
    loggerInstance: options.logger as FastifyBaseLogger,
    // One line per request, written by the onResponse hook below, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    bodyLimit: 1024 * 1024,
    trustProxy:
      options.trustProxy !== undefined && options.trustProxy.length > 0 ? options.trustProxy : false,
    ...timeouts,
    // Drain on close: requests on open connections are still served (with Connection: close), see shutdown.ts.
    return503OnClosing: false,
    forceCloseConnections: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('installFrontDoor', (handler: FrontDoorHandler) => {
    frontDoor = handler;
  });
  app.setValidatorCompiler(createValidatorCompiler());
  app.addSchema(ProblemSchema);
  installErrorHandling(app);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        user: request.user?.id,
      },
      'request',
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Bazaar API', version: options.version, description: 'The Bazaar e-commerce REST API' },
      servers: [{ url: options.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? `def-${index}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app as unknown as HttpServer;
}
