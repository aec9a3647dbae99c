import { randomBytes } from 'node:crypto';
import type { ApiErrorDetail } from '@segmenta/contracts';
import { COUPON_CODE } from './offer-rules';

/**
 * Coupon codes: generation for a pool of unique codes and parsing of uploaded lists. Pure (the
 * randomness comes from `node:crypto`, injectable for tests).
 */

/**
 * Upper-case letters and digits without the look-alikes 0/O, 1/I and L: people read codes off
 * receipts and type them. 31 symbols; each is drawn by rejection sampling, so none is favoured.
 */
export const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const MIN_RANDOM_LENGTH = 6;
export const MAX_RANDOM_LENGTH = 32;
/** A prefix names the campaign (`BF26-`); it is no secret, so it adds no strength. */
export const CODE_PREFIX = /^[A-Z0-9][A-Z0-9_-]{0,19}$/;

/** `length` unbiased symbols of CODE_ALPHABET. */
export function randomCodeBody(length: number, random: (size: number) => Buffer = randomBytes): string {
  // 248 = 8 × 31: a byte below it maps onto the alphabet evenly; bytes above are drawn again.
  const limit = 256 - (256 % CODE_ALPHABET.length);
  let body = '';
  while (body.length < length) {
    for (const byte of random(length * 2)) {
      if (byte >= limit) continue;
      body += CODE_ALPHABET[byte % CODE_ALPHABET.length];
      if (body.length === length) break;
    }
  }
  return body;
}

/**
 * `count` distinct codes `prefix + random body`, none in `taken`. Callers check that the code
 * space is large enough first (codeSpaceProblem); a collision is simply drawn again.
 */
export function generateCodes(count: number, options: { prefix: string; length: number; taken?: ReadonlySet<string>; random?: (size: number) => Buffer }): string[] {
  const codes = new Set<string>();
  while (codes.size < count) {
    const code = `${options.prefix}${randomCodeBody(options.length, options.random)}`;
    if (!options.taken?.has(code)) codes.add(code);
  }
  return [...codes];
}

/**
 * Why `count` more codes of `length` random symbols would be too easy to guess or too slow to
 * draw, or undefined. Codes must stay sparse in their space: with at most one valid code in a
 * million guesses, trying codes at random at the shop's rate limit gets nowhere.
 */
export function codeSpaceProblem(count: number, length: number, existing = 0): string | undefined {
  const space = CODE_ALPHABET.length ** length;
  if ((existing + count) * 1_000_000 > space)
    return `${existing + count} codes of ${length} random characters would make one guess in ${Math.floor(space / (existing + count)).toLocaleString('en')} valid; use a longer length`;
  return undefined;
}

/** A code as stored and compared: trimmed and upper-case (customers type them in any case). */
export const normalizeCode = (code: string) => code.trim().toUpperCase();

export interface ParsedUpload {
  codes: string[];
  problems: ApiErrorDetail[];
}

/**
 * Checks uploaded codes: each must be a well-formed code and appear once, and none may already be
 * in the pool (`existing`). `fieldOf(i)` names the i-th entry for the error (`codes[3]`, `line 4`).
 * Every problem is reported; the caller stores nothing when there is one.
 */
export function checkUploadedCodes(entries: readonly unknown[], existing: ReadonlySet<string>, fieldOf: (index: number) => string): ParsedUpload {
  const problems: ApiErrorDetail[] = [];
  const firstSeen = new Map<string, number>();
  const codes: string[] = [];
  entries.forEach((entry, i) => {
    const field = fieldOf(i);
    if (typeof entry !== 'string') return problems.push({ field, problem: 'must be a string' });
    const code = normalizeCode(entry);
    if (!COUPON_CODE.test(code)) return problems.push({ field, problem: 'must be 3 to 64 letters, digits, - or _, starting with a letter or digit' });
    const first = firstSeen.get(code);
    if (first !== undefined) return problems.push({ field, problem: `duplicates ${fieldOf(first)} (${code})` });
    firstSeen.set(code, i);
    if (existing.has(code)) return problems.push({ field, problem: `${code} is already in this offer's pool` });
    codes.push(code);
  });
  return { codes, problems };
}

/**
 * The entries of a text upload (text/plain or text/csv): one code per line, the first column of a
 * CSV line, blank lines skipped, a first line `code` taken as a header. Each keeps its line number.
 */
export function splitTextUpload(text: string): Array<{ line: number; value: string }> {
  const entries: Array<{ line: number; value: string }> = [];
  text.split(/\r\n|\n|\r/).forEach((raw, i) => {
    const first = raw
      .split(',')[0]
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (first === '' || (entries.length === 0 && first.toLowerCase() === 'code')) return;
    entries.push({ line: i + 1, value: first });
  });
  return entries;
}
