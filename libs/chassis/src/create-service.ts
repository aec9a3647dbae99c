import type { Server } from 'node:http';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { DOCS_PATH } from '@segmenta/contracts';
import { PrefixedNatsServer } from '@segmenta/messaging';
import { createLogger, createNestLogger, requestLogging, type LogSink } from '@segmenta/telemetry';
import { ApiExceptionFilter, createValidationPipe } from './api-errors';
import { API_KEY_SECURITY } from './auth/require-scope';
import { StorableTextPipe, useJsonBodyParser } from './body-parsing';
import { loadConfig, type BaseServiceConfig } from './config';
import { startHealthListener } from './health-listener';
import { TrafficControl } from './traffic/traffic-control';

export interface ServiceDefinition {
  name: string;
  title: string;
  description: string;
  module: DynamicModule;
  config: BaseServiceConfig;
  /** JSON body limit (Segment batches are up to 500 KB). */
  bodyLimit?: string;
  /** Where log lines go (tests capture them); stdout by default. */
  logSink?: LogSink;
  /**
   * Routes (Nest paths, e.g. 'v1/track') without a request log line: high-volume machine traffic.
   * The request logger costs ingestion about a tenth of its throughput (BENCHMARKS, issue 14).
   */
  unloggedRoutes?: string[];
  /**
   * Routes whose bodies are read as JSON whatever their Content-Type says (RudderStack's Node SDK
   * sends gzip-compressed JSON labelled application/x-www-form-urlencoded, as its own gateway accepts).
   */
  jsonWhateverContentTypeRoutes?: string[];
}

/**
 * Builds a service the same way in production and in tests: JSON logs (pino, redacted), the global validation
 * pipe and error filter, OpenAPI at /docs, the NATS request/reply transport. `app.close()` drains
 * the JetStream consumers, then closes the database (runService wires it to SIGTERM/SIGINT).
 * It listens on config.PORT (0 picks a free port); read the port back with `app.getUrl()`.
 */
export async function createService(definition: ServiceDefinition): Promise<INestApplication> {
  const { config } = definition;
  const pino = createLogger({ service: definition.name, level: config.LOG_LEVEL, sink: definition.logSink });
  // Nest's own logs, `new Logger(context)` in the services, the NATS transport and the JetStream
  // client (messaging.module) all write through this one.
  const logger = createNestLogger(pino);
  const app = await NestFactory.create<NestExpressApplication>(definition.module, {
    logger,
    bodyParser: false,
    abortOnError: false,
  });
  // No response names the framework (issue 15, privacy).
  app.disable('x-powered-by');
  // No ETag (a SHA-1 of every response body): the API's answers are personal or change with every
  // call (a served id, a cursor), so no client revalidates them, and hashing cost a hot route 2 % of its CPU.
  app.disable('etag');
  if (config.TRUST_PROXY) app.set('trust proxy', trustProxy(config.TRUST_PROXY));
  // Before the body parser: a shed or rate-limited request costs no body parsing.
  app.use(app.get(TrafficControl, { strict: false }).middleware());
  // After shedding (an overloaded service writes no line per refused request), before body parsing
  // (a body that is not JSON gets its line too).
  app.use(
    requestLogging(
      pino,
      (definition.unloggedRoutes ?? []).map((route) => `/${route}`),
    ),
  );
  useJsonBodyParser(app, { limit: definition.bodyLimit ?? '100kb', maxDepth: config.HTTP_MAX_JSON_DEPTH, anyContentTypeRoutes: definition.jsonWhateverContentTypeRoutes });
  // Unstorable text first: class-transformer would otherwise copy it into the DTO before anyone looks.
  app.useGlobalPipes(new StorableTextPipe(), createValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter(logger));

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(definition.title)
      .setDescription(definition.description)
      .setVersion('0.1.0')
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', description: 'An API key (ADMIN_API_KEY or one from POST /v1/api-keys on ingestion); each operation lists the scopes that pass it.' },
        API_KEY_SECURITY,
      )
      .build(),
  );
  SwaggerModule.setup(DOCS_PATH.slice(1), app, document, { jsonDocumentUrl: `${DOCS_PATH}/openapi.json` });

  app.connectMicroservice({
    strategy: new PrefixedNatsServer(config.NATS_PREFIX, {
      servers: [config.NATS_URL],
      queue: definition.name,
      name: `${definition.name}-rpc`,
    }),
  });
  await app.startAllMicroservices();
  await app.listen(config.PORT);
  if (config.HEALTH_PORT !== undefined) {
    const health = await startHealthListener({ port: config.HEALTH_PORT, service: definition.name });
    (app.getHttpServer() as Server).once('close', () => health.close());
  }
  logger.log({ msg: `${definition.name} listening`, url: await app.getUrl(), nats: config.NATS_URL, database: config.DATABASE_URL ? 'postgresql' : 'pglite' }, 'Bootstrap');
  return app;
}

/** TRUST_PROXY as Express reads it: true/false, a hop count, or addresses and CIDRs. */
function trustProxy(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * Validates the environment into the service's config class and starts it: what each app's
 * `start.ts` does, so tests start services exactly as production does, with their own env.
 */
export async function bootService<C extends BaseServiceConfig>(options: {
  name: string;
  title: string;
  description: string;
  configType: new () => C;
  defaultPort: number;
  env: Record<string, string | undefined>;
  module: (config: C) => DynamicModule;
  bodyLimit?: string;
  logSink?: LogSink;
  unloggedRoutes?: string[];
  jsonWhateverContentTypeRoutes?: string[];
}): Promise<INestApplication> {
  const config = loadConfig(options.configType, options.env, { PORT: options.defaultPort } as Partial<Record<keyof C, unknown>>);
  return createService({
    name: options.name,
    title: options.title,
    description: options.description,
    module: options.module(config),
    config,
    bodyLimit: options.bodyLimit,
    logSink: options.logSink,
    unloggedRoutes: options.unloggedRoutes,
    jsonWhateverContentTypeRoutes: options.jsonWhateverContentTypeRoutes,
  });
}
