import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { findExecutable, freePort, waitFor } from './process-utils';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const POSTGRES_INSTALL_HINT = 'install it with `apt-get install postgresql` or start one with `docker compose up -d nats postgres`';

export interface PostgresEndpoint {
  /** A server URL, or undefined for the embedded PGlite default. */
  url: string | undefined;
  source: 'configured' | 'local-default' | 'embedded';
}

export async function isPostgresReachable(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * DATABASE_URL when reachable, else 127.0.0.1:5432 as user postgres, else the embedded PGlite
 * (url undefined). With `requireServer` (tests on CI), the embedded fallback is an error instead.
 */
export async function ensurePostgres(options: { url?: string; defaultUrl?: string; requireServer?: boolean; log?: (line: string) => void } = {}): Promise<PostgresEndpoint> {
  const log = options.log ?? (() => undefined);
  const defaultUrl = options.defaultUrl ?? DEFAULT_DATABASE_URL;
  if (options.url) {
    if (await isPostgresReachable(options.url)) return { url: options.url, source: 'configured' };
    log(`DATABASE_URL is set but not reachable; trying ${defaultUrl}`);
  }
  if (await isPostgresReachable(defaultUrl)) return { url: defaultUrl, source: 'local-default' };
  if (options.requireServer) {
    throw new Error(`No PostgreSQL server is reachable (DATABASE_URL or 127.0.0.1:5432): ${POSTGRES_INSTALL_HINT}`);
  }
  log('no PostgreSQL server reachable: using the embedded PGlite database');
  return { url: undefined, source: 'embedded' };
}

/** A throw-away PostgreSQL cluster that a fault test may stop, kill and start again. */
export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  readonly url: string;
  readonly port: number;
  /** Stops the server: `fast` as an administrator's restart does (sessions get "terminating connection due to administrator command"), `immediate` as a crash. */
  stopServer(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  startServer(): Promise<void>;
  /** Stops it and removes its files. */
  stop(): Promise<void>;
}

/** `initdb` and `pg_ctl`: on PATH, else in the newest /usr/lib/postgresql/<version>/bin (Debian, Ubuntu). */
export function findPostgresBinaries(searchPath = process.env.PATH ?? ''): { initdb: string; pgCtl: string } | undefined {
  const root = '/usr/lib/postgresql';
  const versioned = existsSync(root)
    ? readdirSync(root)
        .filter((version) => /^\d+$/.test(version))
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => join(root, version, 'bin'))
    : [];
  const initdb = findExecutable('initdb', versioned, searchPath);
  if (!initdb) return undefined;
  // pg_ctl from the same installation as initdb, so both speak the data directory's version.
  const pgCtl = findExecutable('pg_ctl', [], dirname(initdb)) ?? findExecutable('pg_ctl', versioned, searchPath);
  return pgCtl ? { initdb, pgCtl } : undefined;
}

/**
 * A private PostgreSQL cluster (initdb, pg_ctl) on a free port in a temporary directory, for tests
 * that stop and restart the database: never the machine's shared server. PostgreSQL refuses to run
 * as root, so under root the cluster belongs to the `postgres` user and runs as it (runuser).
 */
export async function startPrivatePostgres(options: { log?: (line: string) => void; settings?: Record<string, string> } = {}): Promise<PrivatePostgres> {
  const binaries = findPostgresBinaries();
  if (!binaries) throw new Error(`initdb and pg_ctl are not on PATH nor in /usr/lib/postgresql/*/bin: ${POSTGRES_INSTALL_HINT}`);
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? userIds('postgres') : undefined;
  if (asRoot && !owner) throw new Error('running as root, a private PostgreSQL cluster needs a `postgres` user to run as');
  const dir = mkdtempSync(join(tmpdir(), 'segmenta-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const run = async (binary: string, args: string[]) => {
    const [command, fullArgs] = owner ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
    const { code, output } = await runCommand(command, fullArgs);
    if (code !== 0) throw new Error(`${binary} ${args[0] ?? ''} failed (exit ${code}): ${output.trim().split('\n').slice(-5).join(' | ')}`);
  };
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  // Durability settings off: a test cluster that only ever sees clean stops and process crashes.
  // `settings` adds server settings (the bench's statement report loads pg_stat_statements); names and values are the caller's own constants.
  const extra = Object.entries(options.settings ?? {})
    .map(([name, value]) => ` -c ${name}=${value}`)
    .join('');
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200${extra}`;
  const startServer = async () => {
    await run(binaries.pgCtl, ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverOptions]);
    await waitFor(() => isPostgresReachable(url, 1000), { timeoutMs: 30000, what: `private PostgreSQL on ${url}` });
  };
  const stopServer = async (mode: 'fast' | 'immediate' = 'fast') => {
    await run(binaries.pgCtl, ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '60']);
  };
  try {
    await run(binaries.initdb, ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
    await startServer();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  options.log?.(`started a private PostgreSQL (${binaries.initdb.replace(/\/initdb$/, '')}) on ${url}`);
  return {
    url,
    port,
    startServer,
    stopServer,
    stop: async () => {
      await stopServer('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith(`${name}:`));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

function runCommand(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}
