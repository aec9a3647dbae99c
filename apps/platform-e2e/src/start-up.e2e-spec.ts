import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '@segmenta/infra';

jest.setTimeout(60_000);

/** Runs a service's main.ts with `env` and returns what it printed on stderr and its exit code. */
function startWith(app: string, env: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['-r', join(WORKSPACE_ROOT, 'tools/scripts/dev-register.js'), join(WORKSPACE_ROOT, 'apps', app, 'src/main.ts')], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('start-up configuration', () => {
  it.each([
    ['ingestion', { PORT: 'eighty' }, /^Invalid configuration: PORT must be an integer port number from 0 to 65535 \(got "eighty"\)$/],
    ['profiles', { NATS_URL: 'http://127.0.0.1:4222' }, /^Invalid configuration: NATS_URL must be a nats:\/\/ URL/],
    ['offers', { DATABASE_URL: 'mysql://root@localhost/shop' }, /^Invalid configuration: DATABASE_URL must be a postgres:\/\/ URL/],
    ['experiments', { LOG_LEVEL: 'chatty' }, /^Invalid configuration: LOG_LEVEL must be one of/],
  ])('%s refuses to start with %j and prints one line naming the variable', (app, env, expected) => {
    const { status, stderr } = startWith(app, env as Record<string, string>);
    expect(status).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
  });
});
