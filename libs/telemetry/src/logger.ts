import type { LoggerService, LogLevel } from '@nestjs/common';
import { Logger as NestPinoLogger, PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { requestIds } from './request-context';
import { activeTraceIds } from './trace-context';

/** Receives each log line (one JSON object, no newline): tests pass one to capture the log. */
export type LogSink = (line: string) => void;

export type ServiceLogger = pino.Logger;

const PINO_LEVEL: Record<LogLevel, pino.Level> = { verbose: 'trace', debug: 'debug', log: 'info', warn: 'warn', error: 'error', fatal: 'fatal' };

/** What stands in a log line for a value that must not be written. */
export const REDACTED = '[redacted]';
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
      const reqId = requestIds.getStore();
      const ids = activeTraceIds();
      return { ...(reqId === undefined ? {} : { reqId }), ...(ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {}) };
    },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/**
 * nestjs-pino's PinoLogger bound to one service's logger. nestjs-pino keeps the first logger it
 * sees for the whole process; tests start several services in one process, each with its own.
 * Lines written while a request is served carry its id (reqId) through the logger's mixin.
 */
class BoundPinoLogger extends PinoLogger {
  constructor(private readonly serviceLogger: ServiceLogger) {
    super({ pinoHttp: { logger: serviceLogger } });
  }

  override get logger(): ServiceLogger {
    return this.serviceLogger;
  }
}

/** The Nest LoggerService (for NestFactory.create and `new Logger(context)`) over the service's logger. */
export function createNestLogger(logger: ServiceLogger): LoggerService {
  return new NestPinoLogger(new BoundPinoLogger(logger), {});
}

/** Reads LOG_LEVEL (a Nest level; `info` is accepted for `log`). */
export function parseLogLevel(value: string | undefined): LogLevel {
  if (value && value in PINO_LEVEL) return value as LogLevel;
  return 'log';
}
