import type { Db } from './database';

/** SQLSTATEs that mean "run the same transaction again": serialization failure and deadlock. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

type TransactionScope<TSchema extends Record<string, unknown>> = Parameters<
  Parameters<Db<TSchema>['transaction']>[0]
>[0];

function sqlState(error: unknown): string | undefined {
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
