import type { LoggerService, LogLevel } from '@nestjs/common';
import { activeTraceIds } from './trace-context';

const LEVEL_ORDER: Record<LogLevel, number> = { verbose: 0, debug: 1, log: 2, warn: 3, error: 4, fatal: 5 };
const LEVEL_NAME: Record<LogLevel, string> = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};

export type LogSink = (line: string) => void;

/**
 * Nest logger that writes one JSON object per line: time, level, service, context, msg, and the
 * active trace/span ids, so logs can be joined with traces.
 */
export class JsonLogger implements LoggerService {
  private readonly minimum: number;

  constructor(
    private readonly service: string,
    level: LogLevel = 'log',
    private readonly sink: LogSink = (line) => process.stdout.write(`${line}\n`),
  ) {
    this.minimum = LEVEL_ORDER[level];
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: LogLevel, message: unknown, rest: unknown[]): void {
    if (LEVEL_ORDER[level] < this.minimum) return;
    // Nest passes the context as the last string argument, and for errors a stack before it.
    const args = [...rest];
    const context = typeof args[args.length - 1] === 'string' ? (args.pop() as string) : undefined;
    const entry: Record<string, unknown> = {
      time: new Date().toISOString(),
      level: LEVEL_NAME[level],
      service: this.service,
    };
    if (context) entry.context = context;
    if (message instanceof Error) {
      entry.msg = message.message;
      entry.stack = message.stack;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(entry, message);
    } else {
      entry.msg = String(message);
    }
    const stack = args.find((arg): arg is string => typeof arg === 'string' && arg.includes('\n    at '));
    if (stack) entry.stack = stack;
    const ids = activeTraceIds();
    if (ids) {
      entry.trace_id = ids.traceId;
      entry.span_id = ids.spanId;
    }
    this.sink(JSON.stringify(entry));
  }
}

export function parseLogLevel(value: string | undefined): LogLevel {
  const level = (value ?? 'log') as LogLevel;
  if (level in LEVEL_ORDER) return level;
  if (value === 'info') return 'log';
  return 'log';
}
