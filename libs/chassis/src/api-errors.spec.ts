import { BadRequestException, HttpException, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { createLogger, createNestLogger } from '@segmenta/telemetry';
import { Type } from 'class-transformer';
import { plainToInstance } from 'class-transformer';
import { IsInt, IsNotEmpty, IsString, IsUrl, ValidateNested, validateSync } from 'class-validator';
import { ApiExceptionFilter, retryAfterSeconds, toApiError, validationDetails } from './api-errors';
import {
  ConflictError,
  ForbiddenError,
  GoneError,
  InvalidStateError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthenticatedError,
  UnavailableError,
  ValidationFailedError,
  type DomainError,
} from './domain-errors';

class Page {
  @IsUrl() url!: string;
}
class Context {
  @ValidateNested() @Type(() => Page) page!: Page;
}
class Message {
  @IsString() @IsNotEmpty() userId!: string;
  @ValidateNested() @Type(() => Context) context!: Context;
}
class Batch {
  @IsInt() version!: number;
  @ValidateNested({ each: true }) @Type(() => Message) batch!: Message[];
}

describe('validationDetails', () => {
  it('names nested and indexed fields by their path', () => {
    const input = plainToInstance(Batch, {
      version: 'one',
      batch: [
        { userId: 'u1', context: { page: { url: 'https://shop.example/cameras' } } },
        { userId: '', context: { page: { url: 'not a url' } } },
      ],
    });
    const details = validationDetails(validateSync(input));
    expect(details).toEqual([
      { field: 'version', problem: 'version must be an integer number' },
      { field: 'batch[1].userId', problem: 'userId should not be empty' },
      { field: 'batch[1].context.page.url', problem: 'url must be a URL address' },
    ]);
  });
});

describe('toApiError', () => {
  it('keeps the details of a validation error', () => {
    const body = { statusCode: 400, error: 'Bad Request', message: 'Validation failed: userId', details: [{ field: 'userId', problem: 'must be a string' }] };
    expect(toApiError(new BadRequestException(body))).toEqual(body);
  });

  it('gives a plain HTTP exception the same shape with empty details', () => {
    expect(toApiError(new NotFoundException('No segment "vip"'))).toEqual({ statusCode: 404, error: 'Not Found', message: 'No segment "vip"', details: [] });
    expect(toApiError(new HttpException('slow down', 429))).toEqual({ statusCode: 429, error: 'Too Many Requests', message: 'slow down', details: [] });
  });

  it('explains a body that is too large or not JSON', () => {
    expect(toApiError({ status: 413, type: 'entity.too.large', message: 'request entity too large' })).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'Request body is larger than the limit',
      details: [],
    });
    expect(toApiError(new BadRequestException('Unexpected end of JSON input')).message).toBe('Malformed JSON in request body: Unexpected end of JSON input');
  });

  it.each<[string, DomainError, number, string]>([
    ['ValidationFailedError', new ValidationFailedError('cursor is not a cursor', [{ field: 'cursor', problem: 'invalid' }]), 400, 'Bad Request'],
    ['UnauthenticatedError', new UnauthenticatedError('Unknown write key', [{ field: 'writeKey', problem: 'unknown' }]), 401, 'Unauthorized'],
    ['ForbiddenError', new ForbiddenError('This key lacks the admin scope', [{ field: 'authorization', problem: 'missing scope admin' }]), 403, 'Forbidden'],
    ['NotFoundError', new NotFoundError('No segment "vip"', [{ field: 'id', problem: 'not found' }]), 404, 'Not Found'],
    ['ConflictError', new ConflictError('A segment with key "vip" exists', [{ field: 'key', problem: 'already exists' }]), 409, 'Conflict'],
    ['InvalidStateError', new InvalidStateError('only 3 customers with orders', [{ field: 'label', problem: 'too few labelled profiles' }]), 409, 'Conflict'],
    ['GoneError', new GoneError('Profile "p" was erased', [{ field: 'id', problem: 'erased' }]), 410, 'Gone'],
    ['PayloadTooLargeError', new PayloadTooLargeError('A message may be at most 32768 bytes', [{ field: 'body', problem: 'larger than 32 KB' }]), 413, 'Payload Too Large'],
    ['UnavailableError', new UnavailableError('JetStream did not answer', []), 503, 'Service Unavailable'],
  ])('maps a %s to %i with its message and details', (_name, error, statusCode, reason) => {
    expect(toApiError(error)).toEqual({ statusCode, error: reason, message: error.message, details: error.details });
  });

  it('gives a domain error without details an empty details list', () => {
    expect(toApiError(new NotFoundError('No source with id "s1"'))).toEqual({ statusCode: 404, error: 'Not Found', message: 'No source with id "s1"', details: [] });
  });

  it('builds the message of a validation failure from its details', () => {
    const error = ValidationFailedError.of([
      { field: 'userId', problem: 'userId or anonymousId is required' },
      { field: 'event', problem: 'must be a string' },
    ]);
    expect(toApiError(error)).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Validation failed: userId or anonymousId is required; event must be a string',
      details: [
        { field: 'userId', problem: 'userId or anonymousId is required' },
        { field: 'event', problem: 'must be a string' },
      ],
    });
  });

  it('answers a database outage (refused, terminated, restarting) with a 503 that leaks nothing, and says when to retry', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    const terminated = Object.assign(new Error('Failed query: select ...'), { cause: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }) });
    for (const error of [refused, terminated]) {
      expect(toApiError(error)).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'The database is not reachable; retry later', details: [] });
      expect(retryAfterSeconds(error)).toBeGreaterThan(0);
    }
    expect(retryAfterSeconds(new UnavailableError('JetStream did not answer', [], { retryAfterSeconds: 7 }))).toBe(7);
    expect(retryAfterSeconds(new NotFoundError('No source'))).toBeUndefined();
  });

  it('answers anything else with a generic 500 that leaks nothing', () => {
    const body = toApiError(new Error('connection to 10.0.0.5:5432 refused for user admin'));
    expect(body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error', details: [] });
  });
});

describe('ApiExceptionFilter', () => {
  it('logs a 5xx (with its stack) and an outage (one line) with the id requestLogging gave the request, at warn too, where no request context is kept', () => {
    const lines: string[] = [];
    const filter = new ApiExceptionFilter(createNestLogger(createLogger({ service: 'offers', level: 'warn', sink: (line) => lines.push(line) })));
    const answers: Array<[number, unknown]> = [];
    const response = { setHeader: () => undefined, status: (code: number) => ({ json: (body: unknown) => answers.push([code, body]) }) };
    const host = (id: number | undefined) => ({ getType: () => 'http', switchToHttp: () => ({ getResponse: () => response, getRequest: () => ({ id }) }) }) as unknown as ArgumentsHost;

    filter.catch(new Error('the reward has no value'), host(41));
    filter.catch(new UnavailableError('JetStream did not answer'), host(42));
    filter.catch(new NotFoundError('No offer bench-1'), host(43));
    filter.catch('a thrown string', host(undefined));

    expect(answers.map(([code]) => code)).toEqual([500, 503, 404, 500]);
    const logged = lines.map((line) => JSON.parse(line) as { level: string; msg: string; reqId?: number; err?: { stack: string } });
    expect(logged.map((e) => [e.level, e.msg, e.reqId])).toEqual([
      ['error', 'the reward has no value', 41],
      ['warn', '503: JetStream did not answer', 42],
      ['error', 'a thrown string', undefined],
    ]);
    expect(logged[0].err?.stack).toMatch(/the reward has no value\n\s+at /);
  });
});
