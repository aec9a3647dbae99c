import type { Db } from './database';

/** SQLSTATEs that mean "run the same transaction again": serialization failure and deadlock. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

type TransactionScope<TSchema extends Record<string, unknown>> = Parameters<Parameters<Db<TSchema>['transaction']>[0]>[0];

/**
 * SQLSTATE classes and codes of an unreachable or restarting server: connection exceptions (08),
 * admin/crash shutdown and "cannot connect now" (57P01-57P03), too many connections (53300).
 */
const TRANSIENT_SQLSTATE = /^(08...|57P0[123]|53300)$/;
/** What node-postgres and the socket say when there is no server or the connection went away. */
const TRANSIENT_MESSAGE =
  /Connection terminated|connection (error|timeout)|timeout exceeded when trying to connect|not queryable|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|the database system is (starting up|shutting down|in recovery mode)/i;
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * True when `error` (or a cause Drizzle wrapped it in) says the database is unreachable or
 * restarting, not that the statement is wrong: the same work succeeds once the server is back.
 * Consumers retry such failures without counting them against a message (ADR 16), HTTP answers 503.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth += 1) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_CODES.has(code))) return true;
    if (typeof message === 'string' && TRANSIENT_MESSAGE.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The SQLSTATE of a database error, wrapped or not (Drizzle puts the driver's on `cause`). */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  // Drizzle wraps driver errors; the SQLSTATE sits on the cause.
  for (let depth = 0; current && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Runs `work` in one transaction and retries it (up to `attempts` times, with jittered backoff)
 * when PostgreSQL aborts it for a serialization failure or a deadlock.
 */
export async function withTransaction<TSchema extends Record<string, unknown>, T>(
  db: Db<TSchema>,
  work: (tx: TransactionScope<TSchema>) => Promise<T>,
  options: { attempts?: number; isolationLevel?: 'read committed' | 'repeatable read' | 'serializable' } = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.transaction(work, options.isolationLevel ? { isolationLevel: options.isolationLevel } : undefined);
    } catch (error) {
      const state = sqlState(error);
      if (!state || !RETRYABLE_SQLSTATES.has(state) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt + Math.random() * 10));
    }
  }
}
