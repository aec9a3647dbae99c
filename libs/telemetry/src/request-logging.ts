import type { IncomingMessage, ServerResponse } from 'node:http';
import type pino from 'pino';
import { REDACTED } from './logger';
import { requestIds } from './request-context';

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

type Level = 'info' | 'warn' | 'error';

/** The request as the middleware leaves it: with the id its line carries (pino-http's convention), for the 5xx error line too. */
export type RequestWithId = IncomingMessage & { id?: number };
const levelOf = (statusCode: number): Level => (statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info');

/**
 * Request logging as Express middleware: one line per request when it ends (method, url without
 * query values, headers redacted by the logger, status, duration), at info, warn for 4xx, error for
 * 5xx. Nothing is built for a line that the level drops: pino-http made two child loggers and
 * serialized every request even at LOG_LEVEL=warn, a third of a hot route's CPU (issue 18's bench).
 * `unloggedPaths` (e.g. '/v1/track'): high-volume machine traffic, no line and no request context.
 *
 * Every line written while the request is served carries its id (reqId) only where 2xx request
 * lines are written too (info and below): that context is an AsyncLocalStorage, and in Node 20 it
 * hooks every promise of the process, 12–18 % of a hot route's CPU (issue 18's bench). Above info,
 * the request's own line and its 5xx error line (ApiExceptionFilter reads `req.id`) carry the id.
 */
export function requestLogging(logger: pino.Logger, unloggedPaths: Iterable<string> = []): (req: IncomingMessage & { path?: string }, res: ServerResponse, next: () => void) => void {
  const unlogged = new Set(unloggedPaths);
  let lastId = 0;
  return (req, res, next) => {
    if (unlogged.size > 0 && unlogged.has(req.path ?? (req.url ?? '').split('?')[0])) return next();
    lastId = (lastId + 1) & 0x7fffffff;
    const id = lastId;
    const started = performance.now();
    const done = (aborted: boolean) => {
      const level: Level = aborted ? 'warn' : levelOf(res.statusCode);
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: { id, method: req.method, url: withoutQueryValues(req.url ?? ''), headers: req.headers },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(performance.now() - started),
        },
        aborted ? 'request aborted' : 'request completed',
      );
    };
    res.once('close', () => done(!res.writableFinished));
    (req as RequestWithId).id = id;
    if (logger.isLevelEnabled('info')) requestIds.run(id, next);
    else next();
  };
}
