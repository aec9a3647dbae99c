import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { findExecutable, freePort, waitFor } from './process-utils';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const NATS_INSTALL_HINT = 'install it with `apt-get install nats-server` or start one with `docker compose up -d nats postgres`';

export interface NatsEndpoint {
  url: string;
  /** How it was found: the configured URL, the local default, or a private server we started. */
  source: 'configured' | 'local-default' | 'private';
  /** The private server's temporary JetStream store (removed by stop()). */
  storeDir?: string;
  /** The private server's process id (tests pause it with SIGSTOP to hold publishes). */
  pid?: number;
  stop(): Promise<void>;
}

/** True when a NATS server answers at `url` and has JetStream enabled. */
export async function isJetStreamReachable(url: string, timeoutMs = 1500): Promise<boolean> {
  let nc;
  try {
    nc = await connect({ servers: url, timeout: timeoutMs, reconnect: false });
    const jsm = await nc.jetstreamManager({ timeout: timeoutMs });
    await jsm.getAccountInfo();
    return true;
  } catch {
    return false;
  } finally {
    await nc?.close().catch(() => undefined);
  }
}

/**
 * NATS_URL when reachable, else 127.0.0.1:4222, else a private `nats-server -js` on a free port
 * with a temporary store, else an error whose message is one line naming the install command.
 */
export async function ensureNats(options: { url?: string; defaultUrl?: string; searchPath?: string; log?: (line: string) => void } = {}): Promise<NatsEndpoint> {
  const log = options.log ?? (() => undefined);
  const noop = async () => undefined;
  const defaultUrl = options.defaultUrl ?? DEFAULT_NATS_URL;
  if (options.url) {
    if (await isJetStreamReachable(options.url)) return { url: options.url, source: 'configured', stop: noop };
    log(`NATS_URL=${options.url} is not reachable with JetStream; trying ${defaultUrl}`);
  }
  if (await isJetStreamReachable(defaultUrl)) return { url: defaultUrl, source: 'local-default', stop: noop };
  return startPrivateNats({ searchPath: options.searchPath, log });
}

/** A private nats-server that a fault test can stop and start again on the same port and store. */
export interface PrivateNats extends NatsEndpoint {
  source: 'private';
  storeDir: string;
  /** Stops the server (SIGTERM, or SIGKILL for a crash) and keeps its store. */
  stopServer(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port with the same store; resolves once JetStream answers. */
  startServer(): Promise<void>;
}

/** A private `nats-server -js` on a free port with a temporary store, for as long as the caller needs it. */
export async function startPrivateNats(options: { searchPath?: string; log?: (line: string) => void } = {}): Promise<PrivateNats> {
  const log = options.log ?? (() => undefined);
  const binary = options.searchPath === undefined ? findExecutable('nats-server', ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin']) : findExecutable('nats-server', [], options.searchPath);
  if (!binary) {
    throw new Error(`No NATS server with JetStream is reachable and nats-server is not on PATH: ${NATS_INSTALL_HINT}`);
  }
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'segmenta-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const stopServer = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  const startServer = async () => {
    if (child) return;
    child = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: 'ignore' });
    try {
      await waitFor(() => isJetStreamReachable(url, 500), { timeoutMs: 15000, what: `private nats-server on ${url}` });
    } catch (error) {
      await stopServer('SIGKILL');
      throw error;
    }
  };
  const stop = async () => {
    await stopServer();
    rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    await startServer();
  } catch (error) {
    await stop();
    throw error;
  }
  log(`started a private nats-server (pid ${child?.pid}) on ${url}`);
  return { url, source: 'private', storeDir, pid: child?.pid, stop, stopServer, startServer };
}
