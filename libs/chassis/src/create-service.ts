import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { DOCS_PATH } from '@segmenta/contracts';
import { PrefixedNatsServer } from '@segmenta/messaging';
import { JsonLogger, type LogSink } from '@segmenta/telemetry';
import { ApiExceptionFilter, createValidationPipe } from './api-errors';
import { loadConfig, type BaseServiceConfig } from './config';

export interface ServiceDefinition {
  name: string;
  title: string;
  description: string;
  module: DynamicModule;
  config: BaseServiceConfig;
  /** JSON body limit (Segment batches are up to 500 KB). */
  bodyLimit?: string;
  /** Where log lines go (tests capture them). */
  logSink?: LogSink;
}

/**
 * Builds a service the same way in production and in tests: JSON logs, the global validation
 * pipe and error filter, OpenAPI at /docs, the NATS request/reply transport. `app.close()` drains
 * the JetStream consumers, then closes the database (runService wires it to SIGTERM/SIGINT).
 * It listens on config.PORT (0 picks a free port); read the port back with `app.getUrl()`.
 */
export async function createService(definition: ServiceDefinition): Promise<INestApplication> {
  const { config } = definition;
  const logger = new JsonLogger(definition.name, config.LOG_LEVEL, definition.logSink);
  const app = await NestFactory.create<NestExpressApplication>(definition.module, {
    logger,
    bodyParser: false,
    abortOnError: false,
  });
  app.useBodyParser('json', { limit: definition.bodyLimit ?? '100kb' });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter(logger));

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle(definition.title).setDescription(definition.description).setVersion('0.1.0').build(),
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
  logger.log({ msg: `${definition.name} listening`, url: await app.getUrl(), nats: config.NATS_URL, database: config.DATABASE_URL ? 'postgresql' : 'pglite' }, 'Bootstrap');
  return app;
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
  });
}
