import 'reflect-metadata';
import { plainToInstance, Type, type ClassConstructor } from 'class-transformer';
import { getMetadataStorage, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';
import { DEFAULT_NATS_PREFIX } from '@segmenta/contracts';
import { DEFAULT_MAX_JSON_DEPTH } from './body-parsing';

export const LOG_LEVELS = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'] as const;

/** Environment every service reads (ARCHITECTURE §7); apps extend it with their own variables. */
export class BaseServiceConfig {
  @Type(() => Number)
  @IsInt({ message: 'must be an integer port number from 0 to 65535' })
  @Min(0, { message: 'must be an integer port number from 0 to 65535' })
  @Max(65535, { message: 'must be an integer port number from 0 to 65535' })
  PORT!: number;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL (unset it to use the embedded PGlite)' })
  DATABASE_URL?: string;

  /** Where the embedded PGlite keeps its files when DATABASE_URL is unset (default `.data/<service>`). */
  @IsOptional()
  @IsString()
  DATA_DIR?: string;

  @Matches(/^(nats|tls|ws|wss):\/\/\S+$/, { message: 'must be a nats:// URL (or a comma-free tls://, ws:// URL)' })
  NATS_URL = 'nats://127.0.0.1:4222';

  @Matches(/^[A-Za-z0-9_-]{1,32}$/, { message: 'must be 1-32 letters, digits, _ or - (it names streams and subjects)' })
  NATS_PREFIX = DEFAULT_NATS_PREFIX;

  /** Stream replicas: 1 locally, 3 on a clustered NATS. */
  @Type(() => Number)
  @IsInt({ message: 'must be 1, 3 or 5' })
  @IsIn([1, 3, 5], { message: 'must be 1, 3 or 5' })
  NATS_STREAM_REPLICAS = 1;

  /**
   * How long JetStream waits for an ack before redelivering a message: how long the messages a
   * crashed replica held wait before another takes them. Running handlers and buffered messages
   * signal progress every third of it, so it need not cover a slow batch (ADR 16).
   */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(500, { message: 'must be at least 500 ms' })
  NATS_ACK_WAIT_MS = 3000;

  /**
   * Under load, a batch consumer starts its next batch no sooner than this after its previous one
   * (an idle consumer takes a message at once): fewer, larger transactions. 0 takes whatever is
   * waiting as soon as the last batch is done. See BENCHMARKS.md (real time) for the trade.
   */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(0, { message: 'must be at least 0' })
  @Max(1000, { message: 'must be at most 1000 ms' })
  NATS_BATCH_INTERVAL_MS = 40;

  /** How long a publish waits for JetStream's acknowledgement before the caller gets an error (503). */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(100, { message: 'must be at least 100 ms' })
  NATS_PUBLISH_TIMEOUT_MS = 5000;

  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s):// URL of an OTLP/HTTP endpoint' })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'log';

  @IsOptional()
  @MinLength(16, { message: 'must be at least 16 characters' })
  ADMIN_API_KEY?: string;

  /** JSON request bodies nested deeper than this are refused (400) before validation, which recurses. */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of levels' })
  @Min(2, { message: 'must be at least 2' })
  @Max(1000, { message: 'must be at most 1000 (validation recurses once per level)' })
  HTTP_MAX_JSON_DEPTH = DEFAULT_MAX_JSON_DEPTH;

  // Abuse protection (issue 15, README "Limits"): per process, in memory. 0 turns a limit off.

  /** Length of the fixed windows the rate limits count in. */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of seconds from 1 to 3600' })
  @Min(1, { message: 'must be an integer number of seconds from 1 to 3600' })
  @Max(3600, { message: 'must be an integer number of seconds from 1 to 3600' })
  RATE_LIMIT_WINDOW_SECONDS = 10;

  /** Requests one client address may make per window, whatever the key (probes and /metrics exempt). */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of requests (0: no limit)' })
  @Min(0, { message: 'must be an integer number of requests (0: no limit)' })
  RATE_LIMIT_PER_ADDRESS = 20000;

  /** Requests one write key (source) or API key may make per window, from all addresses together. */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of requests (0: no limit)' })
  @Min(0, { message: 'must be an integer number of requests (0: no limit)' })
  RATE_LIMIT_PER_KEY = 50000;

  /** Unknown keys (write keys, API keys, a wrong ADMIN_API_KEY) one address may present per failure window before it is locked out. */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of failures (0: no lockout)' })
  @Min(0, { message: 'must be an integer number of failures (0: no lockout)' })
  AUTH_FAILURE_LIMIT = 20;

  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of seconds from 1 to 86400' })
  @Min(1, { message: 'must be an integer number of seconds from 1 to 86400' })
  @Max(86400, { message: 'must be an integer number of seconds from 1 to 86400' })
  AUTH_FAILURE_WINDOW_SECONDS = 60;

  /** How long a locked-out address gets 429 for every authentication. */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of seconds from 1 to 86400' })
  @Min(1, { message: 'must be an integer number of seconds from 1 to 86400' })
  @Max(86400, { message: 'must be an integer number of seconds from 1 to 86400' })
  AUTH_LOCKOUT_SECONDS = 300;

  /** Requests in progress at once (probes exempt); more are answered 503 at once instead of queueing. */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of requests (0: no limit)' })
  @Min(0, { message: 'must be an integer number of requests (0: no limit)' })
  SHED_MAX_IN_FLIGHT = 128;

  /** Event-loop lag above which requests are answered 503 until it falls again. */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of milliseconds (0: off)' })
  @Min(0, { message: 'must be an integer number of milliseconds (0: off)' })
  SHED_EVENT_LOOP_LAG_MS = 500;

  /**
   * A second port that answers only GET /health (liveness probes): answered within one turn of the
   * event loop even when the main port is flooded. Unset: /health on PORT only (it is always there too).
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be an integer port number from 0 to 65535' })
  @Min(0, { message: 'must be an integer port number from 0 to 65535' })
  @Max(65535, { message: 'must be an integer port number from 0 to 65535' })
  HEALTH_PORT?: number;

  /**
   * Express's `trust proxy`: which proxies' X-Forwarded-For names the client address the
   * per-address limits count (`loopback`, a hop count, CIDRs). Unset: the TCP peer.
   */
  @IsOptional()
  @Matches(/^[\w.:/, -]{1,200}$/, { message: 'must be an Express trust proxy value: true, a hop count, loopback, or comma-separated addresses/CIDRs' })
  TRUST_PROXY?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates the environment into a typed config once, at start-up. Empty strings count as unset.
 * Throws a ConfigError whose message is one line naming each bad variable and its value.
 */
export function loadConfig<T extends BaseServiceConfig>(type: ClassConstructor<T>, env: Record<string, string | undefined>, defaults: Partial<Record<keyof T, unknown>> = {}): T {
  const probe = new type() as unknown as Record<string, unknown>;
  // Every decorated property counts, also optional ones without a default (not on the probe).
  const declared = getMetadataStorage()
    .getTargetValidationMetadatas(type, '', true, false)
    .map((m) => m.propertyName);
  const keys = new Set([...Object.keys(probe), ...declared]);
  const raw: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '' && (keys.has(key) || key in probe)) raw[key] = value;
  }
  const config = plainToInstance(type, raw, { exposeDefaultValues: true });
  const errors = validateSync(config as object, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const problems = errors.map((error) => {
      const value = raw[error.property];
      const shown = error.property.includes('KEY') || error.property.includes('URL') ? '' : ` (got ${JSON.stringify(value)})`;
      return `${error.property} ${Object.values(error.constraints ?? {})[0] ?? 'is invalid'}${value === undefined ? ' (it is not set)' : shown}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return config;
}
