import { RequestMethod, type DynamicModule, type LoggerService, type LogLevel } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger as NestPinoLogger, LoggerModule, PinoLogger } from 'nestjs-pino';
import { storage } from 'nestjs-pino/storage';
import pino from 'pino';
import { activeTraceIds } from './trace-context';

/** Receives each log line (one JSON object, no newline): tests pass one to capture the log. */
export type LogSink = (line: string) => void;

export type ServiceLogger = pino.Logger;

const PINO_LEVEL: Record<LogLevel, pino.Level> = { verbose: 'trace', debug: 'debug', log: 'info', warn: 'warn', error: 'error', fatal: 'fatal' };

const REDACTED = '[redacted]';
// PII and secrets, at the top of a log object and one level down (`{ message: { traits } }`).
const SENSITIVE_KEYS = ['email', 'phone', 'traits', 'writeKey', 'password', 'authorization', 'cookie', 'body'];
export const REDACT_PATHS = [...SENSITIVE_KEYS.flatMap((key) => [key, `*.${key}`]), 'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]'];

/**
 * The service's pino logger: JSON lines with time, level, service, msg and the active trace/span
 * ids (to join logs with traces), PII and secrets redacted. Without a sink it writes to stdout.
 */
export function createLogger(options: { service: string; level?: LogLevel; sink?: LogSink }): ServiceLogger {
  const sink = options.sink;
  const destination: pino.DestinationStream | undefined = sink ? { write: (line: string) => sink(line.endsWith('\n') ? line.slice(0, -1) : line) } : undefined;
  const settings: pino.LoggerOptions = {
    level: PINO_LEVEL[options.level ?? 'log'],
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const ids = activeTraceIds();
      return ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
    },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/**
 * nestjs-pino's PinoLogger bound to one service's logger. nestjs-pino keeps the first logger it
 * sees for the whole process; tests start several services in one process, each with its own.
 * Inside an HTTP request it uses the request's child logger (with the request id).
 */
class BoundPinoLogger extends PinoLogger {
  constructor(private readonly serviceLogger: ServiceLogger) {
    super({ pinoHttp: { logger: serviceLogger } });
  }

  override get logger(): ServiceLogger {
    return storage.getStore()?.logger ?? this.serviceLogger;
  }
}

/** The Nest LoggerService (for NestFactory.create and `new Logger(context)`) over the service's logger. */
export function createNestLogger(logger: ServiceLogger): LoggerService {
  return new NestPinoLogger(new BoundPinoLogger(logger), {});
}

/**
 * Request logging (pino-http through nestjs-pino): one line per request with method, url,
 * status and duration. Headers are logged redacted, query values and bodies never.
 */
export function httpLoggingModule(logger: ServiceLogger, unloggedRoutes: string[] = []): DynamicModule {
  return LoggerModule.forRoot({
    // Excluded routes skip the middleware altogether (no child logger, no request context).
    ...(unloggedRoutes.length > 0 ? { exclude: unloggedRoutes.map((path) => ({ path, method: RequestMethod.ALL })) } : {}),
    pinoHttp: {
      logger,
      // Logs written during a request carry its id only, not the whole request again.
      quietReqLogger: true,
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      serializers: {
        req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown> }) => ({
          id: req.id,
          method: req.method,
          url: withoutQueryValues(req.url),
          headers: req.headers,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  });
}

/** `/v1/profiles?email=a@b.c` → `/v1/profiles?email=[redacted]`: look-ups pass PII in the query. */
export function withoutQueryValues(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const names = url
    .slice(start + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${pair.split('=')[0]}=${REDACTED}`);
  return `${url.slice(0, start)}?${names.join('&')}`;
}

/** Reads LOG_LEVEL (a Nest level; `info` is accepted for `log`). */
export function parseLogLevel(value: string | undefined): LogLevel {
  if (value && value in PINO_LEVEL) return value as LogLevel;
  return 'log';
}
