import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { findUnstorableText } from '@segmenta/contracts';
import { ValidationFailedError } from './domain-errors';

/** Default of HTTP_MAX_JSON_DEPTH: deeper than any body the APIs take (a segment rule of 30 nested all/any). */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * The path of the first value nested deeper than `maxDepth` (the body itself is level 1), or
 * undefined. Recursion stops at the limit, so a 100,000-level body costs 65 frames.
 */
export function pathDeeperThan(value: unknown, maxDepth: number, path = '', depth = 1): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > maxDepth) return path || 'body';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = pathDeeperThan(value[i], maxDepth, `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const found = pathDeeperThan((value as Record<string, unknown>)[key], maxDepth, path ? `${path}.${key}` : key, depth + 1);
    if (found) return found;
  }
  return undefined;
}

type Next = (error?: unknown) => void;
interface RawRequest {
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  url?: string;
}

/**
 * A body-parser error as a domain error where body-parser's own is not one a client can act on:
 * a body that does not inflate with its Content-Encoding comes back from zlib as a bare 400
 * without a `type` (it used to end as a 500).
 */
export function bodyReadError(error: unknown, contentEncoding: string | undefined): unknown {
  const e = error as { status?: unknown; type?: unknown; message?: unknown };
  const encoding = (contentEncoding ?? 'identity').toLowerCase();
  if (e?.status === 400 && typeof e.type !== 'string' && encoding !== 'identity') {
    return new ValidationFailedError(`The request body is not valid ${encoding} data (Content-Encoding: ${encoding}): ${String(e.message)}`, [
      { field: 'body', problem: `is not valid ${encoding} data` },
    ]);
  }
  return error;
}

/**
 * JSON bodies for every service: body-parser within `limit`, its errors made precise, and no body
 * nested deeper than `maxDepth` levels: validation (class-transformer, class-validator, the rule
 * compiler) recurses, and a few thousand levels overflowed the stack (500) before this check.
 */
export function useJsonBodyParser(app: NestExpressApplication, options: { limit: string; maxDepth: number; anyContentTypeRoutes?: string[] }): void {
  const anyType = new Set((options.anyContentTypeRoutes ?? []).map((route) => `/${route.replace(/^\/+|\/+$/g, '')}`));
  // JSON by its Content-Type, or on the listed routes whatever it says (a body-less request has none to read).
  const type =
    anyType.size === 0
      ? 'application/json'
      : (req: RawRequest) => anyType.has((req.url ?? '').split('?')[0].replace(/\/+$/, '')) || /^application\/(.+\+)?json\b/i.test(String(req.headers['content-type'] ?? ''));
  app.useBodyParser('json', { limit: options.limit, type });
  app.use((error: unknown, req: RawRequest, _res: unknown, next: Next) => {
    const encoding = req.headers['content-encoding'];
    next(bodyReadError(error, Array.isArray(encoding) ? encoding.join(',') : encoding));
  });
  app.use((req: RawRequest, _res: unknown, next: Next) => {
    const deep = pathDeeperThan(req.body, options.maxDepth);
    if (deep === undefined) return next();
    next(
      new ValidationFailedError(`The JSON body is nested deeper than ${options.maxDepth} levels (the limit of HTTP_MAX_JSON_DEPTH) at ${deep}`, [
        { field: deep, problem: `is nested deeper than ${options.maxDepth} levels` },
      ]),
    );
  });
}

/**
 * The global pipe before validation: every body, query and path parameter is refused (400 naming
 * the field) when it holds text PostgreSQL cannot store (NUL, lone surrogates). Bodies a route reads
 * unchecked (the tracking batch, custom decorators) are checked by that route, per member.
 */
export class StorableTextPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' && metadata.type !== 'query' && metadata.type !== 'param') return value;
    const found = findUnstorableText(value, metadata.data ?? '', metadata.type);
    if (found) throw ValidationFailedError.of([found]);
    return value;
  }
}
