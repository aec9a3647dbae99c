import {
  BadRequestException,
  Catch,
  HttpException,
  HttpStatus,
  ValidationPipe,
  type ArgumentsHost,
  type ExceptionFilter,
  type LoggerService,
  type ValidationError,
} from '@nestjs/common';
import type { ApiErrorBody, ApiErrorDetail } from '@segmenta/contracts';

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
        message: `Validation failed: ${details.map((d) => `${d.field} ${d.problem.startsWith(d.field) ? d.problem.slice(d.field.length).trim() : d.problem}`).join('; ')}`,
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
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Maps anything thrown in an HTTP request to `{ statusCode, error, message, details }`. */
export function toApiError(exception: unknown): ApiErrorBody {
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
    const message =
      e.type === 'entity.parse.failed'
        ? 'Malformed JSON in request body'
        : e.type === 'entity.too.large'
          ? 'Request body is larger than the limit'
          : String(e.message);
    return { statusCode: e.status, error: REASON[e.status] ?? 'Error', message, details: [] };
  }
  return { statusCode: 500, error: REASON[500], message: 'Internal server error', details: [] };
}

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: LoggerService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const body = toApiError(exception);
    if (body.statusCode >= 500) {
      this.logger.error(exception instanceof Error ? exception : String(exception), 'ApiExceptionFilter');
    }
    host
      .switchToHttp()
      .getResponse<{ status(code: number): { json(body: unknown): void } }>()
      .status(body.statusCode)
      .json(body);
  }
}
