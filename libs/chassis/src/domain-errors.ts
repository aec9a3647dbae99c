/**
 * Typed errors that services throw; ApiExceptionFilter (api-errors.ts) maps each kind to an HTTP
 * status and the API error shape. Framework-free on purpose: services, jobs and handlers throw
 * them without knowing about HTTP.
 */

/** One offending field and what is wrong with it: the `details` of the API error shape. */
export interface DomainErrorDetail {
  field: string;
  problem: string;
}

export type DomainErrorKind = 'validation_failed' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'invalid_state' | 'gone' | 'too_large' | 'too_many_requests' | 'unavailable';

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  /** When a retry may succeed, in seconds (sent as Retry-After): rate limits, lockouts, shedding. */
  readonly retryAfterSeconds?: number;

  constructor(
    message: string,
    readonly details: DomainErrorDetail[] = [],
    options: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The input breaks a rule the DTO decorators cannot express (a cursor, a definition, one-of fields): 400. */
export class ValidationFailedError extends DomainError {
  readonly kind = 'validation_failed';

  /** A message naming every detail: `Validation failed: userId is required; event must be a string`. */
  static of(details: DomainErrorDetail[]): ValidationFailedError {
    return new ValidationFailedError(validationMessage(details), details);
  }
}

/** No credentials, or credentials that name nobody: 401. */
export class UnauthenticatedError extends DomainError {
  readonly kind = 'unauthenticated';
}

/** Known caller without the right to do this: 403. */
export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';
}

/** The addressed thing does not exist: 404. */
export class NotFoundError extends DomainError {
  readonly kind = 'not_found';
}

/** The request collides with existing data (a taken key, a reference that is still in use): 409. */
export class ConflictError extends DomainError {
  readonly kind = 'conflict';
}

/**
 * The request is valid but the current state does not allow it yet (too few customers to fit a
 * model): 409 like a conflict, because resending the same body can succeed once the state has
 * changed — which is what 409 tells a client; 422 would say the body itself is wrong.
 */
export class InvalidStateError extends DomainError {
  readonly kind = 'invalid_state';
}

/** The thing existed and was deliberately removed (an erased profile): 410. */
export class GoneError extends DomainError {
  readonly kind = 'gone';
}

/** One message is above a size limit: 413. */
export class PayloadTooLargeError extends DomainError {
  readonly kind = 'too_large';
}

/** The caller used up a rate limit or is locked out after failed authentications: 429 with Retry-After. */
export class TooManyRequestsError extends DomainError {
  readonly kind = 'too_many_requests';
}

/** A dependency (JetStream, the database) did not answer, or the process sheds load; retrying later is safe: 503. */
export class UnavailableError extends DomainError {
  readonly kind = 'unavailable';

  constructor(message: string, details: DomainErrorDetail[] = [], options: { retryAfterSeconds?: number } = {}) {
    // Always says when to retry (the Retry-After header).
    super(message, details, { retryAfterSeconds: options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS });
  }
}

/** A restart of NATS or PostgreSQL takes seconds; a client that waits this long rarely meets it again. */
export const DEFAULT_RETRY_AFTER_SECONDS = 2;

/** `Validation failed: <field> <problem>; …`, without repeating a field the problem already starts with. */
export function validationMessage(details: DomainErrorDetail[]): string {
  return `Validation failed: ${details.map((d) => `${d.field} ${d.problem.startsWith(d.field) ? d.problem.slice(d.field.length).trim() : d.problem}`).join('; ')}`;
}
