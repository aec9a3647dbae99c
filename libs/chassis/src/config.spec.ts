import { IsOptional, IsString } from 'class-validator';
import { BaseServiceConfig, ConfigError, loadConfig } from './config';

const load = (env: Record<string, string | undefined>, defaults: Record<string, unknown> = { PORT: 3002 }) => loadConfig(BaseServiceConfig, env, defaults);

function errorOf(env: Record<string, string | undefined>, defaults?: Record<string, unknown>): ConfigError {
  try {
    load(env, defaults);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads optional variables without a default, also those a subclass declares', () => {
    class WithExtra extends BaseServiceConfig {
      @IsOptional()
      @IsString()
      EXTRA_SETTING?: string;
    }
    const config = loadConfig(WithExtra, { PORT: '1', EXTRA_SETTING: 'x', DATA_DIR: '/tmp/d', UNRELATED: 'no' });
    expect(config.EXTRA_SETTING).toBe('x');
    expect(config.DATA_DIR).toBe('/tmp/d');
    expect(config).not.toHaveProperty('UNRELATED');
  });

  it('applies the defaults and converts numbers', () => {
    const config = load({ PORT: '8080' });
    expect(config).toMatchObject({
      PORT: 8080,
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_PREFIX: 'segmenta',
      NATS_STREAM_REPLICAS: 1,
      NATS_ACK_WAIT_MS: 3000,
      LOG_LEVEL: 'log',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config).toBeInstanceOf(BaseServiceConfig);
  });

  it('uses the service default port when PORT is unset or empty', () => {
    expect(load({}).PORT).toBe(3002);
    expect(load({ PORT: '' }).PORT).toBe(3002);
  });

  it('ignores unrelated environment variables', () => {
    expect(load({ HOME: '/root', PATH: '/bin' })).not.toHaveProperty('HOME');
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', '(got "abc")'],
    [{ PORT: '70000' }, 'PORT', '(got "70000")'],
    [{ NATS_URL: 'http://nats:4222' }, 'NATS_URL', 'nats://'],
    [{ NATS_PREFIX: 'a.b' }, 'NATS_PREFIX', '(got "a.b")'],
    [{ DATABASE_URL: 'mysql://root:secret@db/shop' }, 'DATABASE_URL', 'postgres://'],
    [{ NATS_STREAM_REPLICAS: '2' }, 'NATS_STREAM_REPLICAS', '1, 3 or 5'],
    [{ LOG_LEVEL: 'chatty' }, 'LOG_LEVEL', 'verbose, debug, log'],
    [{ ADMIN_API_KEY: 'short' }, 'ADMIN_API_KEY', 'at least 16'],
  ])('rejects %j with one line naming %s', (env, variable, hint) => {
    const error = errorOf(env);
    expect(error.message.split('\n')).toHaveLength(1);
    expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${variable} `));
    expect(error.message).toContain(hint);
  });

  it('says a required variable without a default is not set', () => {
    expect(errorOf({}, {}).message).toBe('Invalid configuration: PORT must be an integer port number from 0 to 65535 (it is not set)');
  });

  it('never echoes the value of a URL or key, which may hold a password', () => {
    expect(errorOf({ DATABASE_URL: 'mysql://root:secret@db/shop' }).message).not.toContain('secret');
    expect(errorOf({ ADMIN_API_KEY: 'hunter2' }).message).not.toContain('hunter2');
  });

  it('reports every bad variable at once', () => {
    const message = errorOf({ PORT: 'x', LOG_LEVEL: 'y' }).message;
    expect(message).toContain('PORT');
    expect(message).toContain('LOG_LEVEL');
  });
});
