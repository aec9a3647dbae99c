import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { Type } from 'class-transformer';
import { plainToInstance } from 'class-transformer';
import { IsInt, IsNotEmpty, IsString, IsUrl, ValidateNested, validateSync } from 'class-validator';
import { toApiError, validationDetails } from './api-errors';

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

  it('answers anything else with a generic 500 that leaks nothing', () => {
    const body = toApiError(new Error('connection to 10.0.0.5:5432 refused for user admin'));
    expect(body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error', details: [] });
  });
});
