import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware, type PipeTransform } from '@nestjs/common';
import { PayloadTooLargeError, ValidationFailedError, createValidationPipe, sendApiError, type ErrorResponse } from '@segmenta/chassis';
import { AddCodesDto } from './offers.dto';

/** A text upload of 100,000 codes of up to 20 characters fits; the JSON body limit (100 kB) stays for JSON. */
export const MAX_TEXT_UPLOAD_BYTES = 2 * 1024 * 1024;
const TEXT_UPLOAD = /^text\/(plain|csv)\s*(;|$)/i;

/**
 * Reads a text/csv or text/plain body (one code per line) as a string for POST
 * /v1/offers/{key}/codes; JSON bodies are left to the JSON parser. UTF-8 only, not compressed:
 * what spreadsheets and scripts send. Errors answer in the API error shape here, since this runs
 * before Nest's exception filter.
 */
@Injectable()
export class TextUploadMiddleware implements NestMiddleware<IncomingMessage & { body?: unknown }, ServerResponse> {
  use(request: IncomingMessage & { body?: unknown }, response: ServerResponse, next: (error?: unknown) => void): void {
    const type = request.headers['content-type'] ?? '';
    if (!TEXT_UPLOAD.test(type)) return next();
    const refuse = (error: unknown) => {
      request.resume();
      sendApiError(response as unknown as ErrorResponse, error);
    };
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1];
    if (charset && !/^utf-?8$/i.test(charset))
      return refuse(new ValidationFailedError(`A text upload must be UTF-8 (got charset ${charset})`, [{ field: 'content-type', problem: 'charset must be utf-8' }]));
    const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity')
      return refuse(
        new ValidationFailedError(`A text upload must not be compressed (got Content-Encoding: ${encoding})`, [{ field: 'content-encoding', problem: 'must be identity for text uploads' }]),
      );
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_TEXT_UPLOAD_BYTES) {
        done = true;
        return refuse(new PayloadTooLargeError(`A text upload may be at most ${MAX_TEXT_UPLOAD_BYTES} bytes`, [{ field: 'body', problem: `is larger than ${MAX_TEXT_UPLOAD_BYTES} bytes` }]));
      }
      chunks.push(chunk);
    });
    request.on('error', (error) => {
      if (done) return;
      done = true;
      refuse(new ValidationFailedError(`The upload could not be read: ${error.message}`, [{ field: 'body', problem: 'could not be read' }]));
    });
    request.on('end', () => {
      if (done) return;
      done = true;
      try {
        request.body = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
      } catch {
        return refuse(new ValidationFailedError('A text upload must be valid UTF-8', [{ field: 'body', problem: 'is not valid UTF-8' }]));
      }
      next();
    });
  }
}

const validation = createValidationPipe();

/**
 * The body of POST /v1/offers/{key}/codes: the text of an upload as it is, a JSON object checked
 * as AddCodesDto (the global pipe skips a parameter typed as a union), anything else refused.
 */
@Injectable()
export class CodesBodyPipe implements PipeTransform<unknown, Promise<AddCodesDto | string>> {
  async transform(value: unknown): Promise<AddCodesDto | string> {
    if (typeof value === 'string') return value;
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw ValidationFailedError.of([{ field: 'body', problem: 'must be a JSON object with generate or codes, or text/csv or text/plain with one code per line' }]);
    return (await validation.transform(value, { type: 'body', metatype: AddCodesDto })) as AddCodesDto;
  }
}
