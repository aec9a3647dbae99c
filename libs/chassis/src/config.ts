import 'reflect-metadata';
import { plainToInstance, Type, type ClassConstructor } from 'class-transformer';
import { getMetadataStorage, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';
import { DEFAULT_NATS_PREFIX } from '@segmenta/contracts';

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

  /** How long JetStream waits for an ack before redelivering a message. */
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(500, { message: 'must be at least 500 ms' })
  NATS_ACK_WAIT_MS = 30000;

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
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates the environment into a typed config once, at start-up. Empty strings count as unset.
 * Throws a ConfigError whose message is one line naming each bad variable and its value.
 */
export function loadConfig<T extends BaseServiceConfig>(
  type: ClassConstructor<T>,
  env: Record<string, string | undefined>,
  defaults: Partial<Record<keyof T, unknown>> = {},
): T {
  const probe = new type() as unknown as Record<string, unknown>;
  // Every decorated property counts, also optional ones without a default (not on the probe).
  const declared = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false).map((m) => m.propertyName);
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
