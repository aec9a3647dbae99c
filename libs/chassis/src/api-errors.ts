import { BadRequestException, Catch, HttpException, HttpStatus, ValidationPipe, type ArgumentsHost, type ExceptionFilter, type LoggerService, type ValidationError } from '@nestjs/common';
import type { ApiErrorBody, ApiErrorDetail } from '@segmenta/contracts';
import { isTransientDatabaseError } from '@segmenta/persistence';
import type { RequestWithId } from '@segmenta/telemetry';
import { DEFAULT_RETRY_AFTER_SECONDS, DomainError, UnavailableError, validationMessage, type DomainErrorKind } from './domain-errors';

/** Flattens class-validator errors into `{ field, problem }` with dotted/indexed paths. */
export function validationDetails(errors: ValidationError[], parent = ''): ApiErrorDetail[] {
  return errors.flatMap((error) => {
    const segment = /^\d+$/.test(error.property) ? `[${error.property}]` : error.property;
    const field = parent ? (segment.startsWith('[') ? `${parent}${segment}` : `${parent}.${segment}`) : segment;
    const own = Object.values(error.constraints ?? {}).map((problem) => ({ field, problem }));
    return [...own, ...validationDetails(error.children ?? [], field)];
  });
}

/** The global pipe: validates and transforms every DTO, answering 400 with field-level details. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidUnknownValues: true,
    // One problem per field: the first that fails says enough.
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const details = validationDetails(errors);
      const body: ApiErrorBody = {
        statusCode: HttpStatus.BAD_REQUEST,
        error: 'Bad Request',
        message: validationMessage(details),
        details,
      };
      return new BadRequestException(body);
    },
  });
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The HTTP status of each domain error kind (InvalidStateError: 409, see its comment). */
export const DOMAIN_ERROR_STATUS: Record<DomainErrorKind, number> = {
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_state: 409,
  gone: 410,
  too_large: 413,
  too_many_requests: 429,
  unavailable: 503,
};

/**
 * A database that is unreachable or restarting is an outage, not a bug: any repository's driver
 * error of that kind becomes an UnavailableError (503), so no route answers 500 during a restart.
 */
function asDomainError(exception: unknown): unknown {
  return !(exception instanceof DomainError) && isTransientDatabaseError(exception) ? new UnavailableError('The database is not reachable; retry later') : exception;
}

/** Seconds for Retry-After when the error says when to retry (503 of an outage or shedding, 429), else undefined. */
export function retryAfterSeconds(exception: unknown): number | undefined {
  const error = asDomainError(exception);
  return error instanceof DomainError && error.retryAfterSeconds !== undefined ? Math.max(1, Math.ceil(error.retryAfterSeconds)) : undefined;
}

/** Maps anything thrown in an HTTP request to `{ statusCode, error, message, details }`. */
export function toApiError(thrown: unknown): ApiErrorBody {
  const exception = asDomainError(thrown);
  if (exception instanceof DomainError) {
    const status = DOMAIN_ERROR_STATUS[exception.kind];
    return { statusCode: status, error: REASON[status] ?? 'Error', message: exception.message, details: exception.details.map(({ field, problem }) => ({ field, problem })) };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'object' && response !== null) {
      const r = response as Partial<ApiErrorBody> & { message?: unknown };
      let message = Array.isArray(r.message) ? r.message.join('; ') : String(r.message ?? exception.message);
      // Nest turns body-parser's SyntaxError into a bare BadRequestException with JSON.parse's text.
      if (status === 400 && !r.details && /\bJSON\b/.test(message)) message = `Malformed JSON in request body: ${message}`;
      return { statusCode: status, error: r.error ?? REASON[status] ?? 'Error', message, details: r.details ?? [] };
    }
    return { statusCode: status, error: REASON[status] ?? 'Error', message: String(response), details: [] };
  }
  // body-parser errors carry an HTTP status and a type.
  const e = exception as { status?: unknown; type?: unknown; message?: unknown };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && typeof e.type === 'string') {
    const message = e.type === 'entity.parse.failed' ? 'Malformed JSON in request body' : e.type === 'entity.too.large' ? 'Request body is larger than the limit' : String(e.message);
    return { statusCode: e.status, error: REASON[e.status] ?? 'Error', message, details: [] };
  }
  return { statusCode: 500, error: REASON[500], message: 'Internal server error', details: [] };
}

/** The part of an express response the error answer needs. */
export interface ErrorResponse {
  setHeader(name: string, value: string): unknown;
  status(code: number): { json(body: unknown): void };
}

/**
 * Answers with the API error shape of `exception` (and Retry-After when the error says when to
 * retry). The one exception filter uses it, and so does the admission middleware, which runs
 * before Nest's pipeline (429 and 503 without reading the body).
 */
export function sendApiError(response: ErrorResponse, exception: unknown): ApiErrorBody {
  const body = toApiError(exception);
  const retryAfter = retryAfterSeconds(exception);
  if (retryAfter !== undefined) response.setHeader('Retry-After', String(retryAfter));
  response.status(body.statusCode).json(body);
  return body;
}

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: LoggerService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const body = sendApiError(http.getResponse<ErrorResponse>(), exception);
    if (body.statusCode < 500) return;
    // The request's id (requestLogging's), so the line joins the request's own also where no request context is kept.
    const reqId = http.getRequest<RequestWithId | undefined>()?.id;
    // An outage, shedding or a rate limit answers on purpose and says when to retry: one line each, without a stack.
    if (retryAfterSeconds(exception) !== undefined) this.logger.warn({ msg: `${body.statusCode}: ${exception instanceof Error ? exception.message : String(exception)}`, reqId }, 'ApiExceptionFilter');
    else this.logger.error(exception instanceof Error ? { err: exception, reqId } : { msg: String(exception), reqId }, 'ApiExceptionFilter');
  }
}
