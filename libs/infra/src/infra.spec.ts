import { existsSync } from 'node:fs';
import { connect } from 'nats';
import { Client } from 'pg';
import { ensureNats, isJetStreamReachable, startPrivateNats } from './nats';
import { ensurePostgres, findPostgresBinaries, isPostgresReachable, startPrivatePostgres } from './postgres';
import { findExecutable, freePort, waitFor } from './process-utils';

jest.setTimeout(30_000);

const deadNats = async () => `nats://127.0.0.1:${await freePort()}`;
const deadPostgres = async () => `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;

describe('ensureNats', () => {
  it('uses the configured server when it answers with JetStream', async () => {
    const nats = await ensureNats({ url: process.env.NATS_URL });
    expect(nats).toMatchObject({ url: process.env.NATS_URL, source: 'configured' });
  });

  it('falls back to the local default when the configured server does not answer', async () => {
    const lines: string[] = [];
    const nats = await ensureNats({ url: await deadNats(), defaultUrl: process.env.NATS_URL, log: (l) => lines.push(l) });
    expect(nats).toMatchObject({ url: process.env.NATS_URL, source: 'local-default' });
    expect(lines.join('\n')).toMatch(/not reachable with JetStream/);
  });

  it('starts a private nats-server with JetStream when nothing answers, and stop() removes it and its store', async () => {
    const nats = await ensureNats({ url: await deadNats(), defaultUrl: await deadNats() });
    try {
      expect(nats.source).toBe('private');
      expect(existsSync(nats.storeDir as string)).toBe(true);
      expect(await isJetStreamReachable(nats.url)).toBe(true);
      const nc = await connect({ servers: nats.url });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'PROBE', subjects: ['probe.>'] });
      await nc.jetstream().publish('probe.one', new Uint8Array([1]));
      expect((await jsm.streams.info('PROBE')).state.messages).toBe(1);
      await nc.close();
    } finally {
      await nats.stop();
    }
    expect(await isJetStreamReachable(nats.url, 500)).toBe(false);
    expect(existsSync(nats.storeDir as string)).toBe(false);
  });

  it('fails with one line naming the install command when nats-server cannot be found', async () => {
    const attempt = ensureNats({ url: await deadNats(), defaultUrl: await deadNats(), searchPath: '/nonexistent' });
    await expect(attempt).rejects.toThrow(/^[^\n]*apt-get install nats-server[^\n]*$/);
  });
});

describe('servers for fault tests', () => {
  it('restarts a private nats-server on the same port and store: streams and messages survive', async () => {
    const nats = await startPrivateNats();
    try {
      const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'PROBE', subjects: ['probe.>'] });
      await nc.jetstream().publish('probe.one', new Uint8Array([1]));
      await nats.stopServer();
      expect(await isJetStreamReachable(nats.url, 500)).toBe(false);
      await nats.startServer();
      await waitFor(async () => (await jsm.streams.info('PROBE').catch(() => undefined))?.state.messages === 1, { timeoutMs: 10000, what: 'the stream after the restart' });
      await nc.close();
    } finally {
      await nats.stop();
    }
  });

  it('finds initdb and pg_ctl (PATH, then /usr/lib/postgresql/*/bin) and runs a private cluster that keeps its data across a restart', async () => {
    expect(findPostgresBinaries()).toBeDefined();
    const postgres = await startPrivatePostgres();
    try {
      expect(postgres.url).not.toMatch(/:5432\//);
      const client = new Client({ connectionString: postgres.url });
      await client.connect();
      await client.query('create table kept (n int); insert into kept values (1)');
      await client.end();
      await postgres.stopServer();
      expect(await isPostgresReachable(postgres.url, 500)).toBe(false);
      await postgres.startServer();
      const again = new Client({ connectionString: postgres.url });
      await again.connect();
      expect((await again.query('select n from kept')).rows).toEqual([{ n: 1 }]);
      await again.end();
    } finally {
      await postgres.stop();
    }
    expect(await isPostgresReachable(postgres.url, 500)).toBe(false);
  });
});

describe('ensurePostgres', () => {
  it('uses the configured server when it answers', async () => {
    expect(await ensurePostgres({ url: process.env.DATABASE_URL })).toEqual({ url: process.env.DATABASE_URL, source: 'configured' });
  });

  it('falls back to the local default, then to the embedded PGlite', async () => {
    expect(await ensurePostgres({ url: await deadPostgres(), defaultUrl: process.env.DATABASE_URL })).toEqual({
      url: process.env.DATABASE_URL,
      source: 'local-default',
    });
    expect(await ensurePostgres({ url: await deadPostgres(), defaultUrl: await deadPostgres() })).toEqual({ url: undefined, source: 'embedded' });
  });

  it('insists on a server when asked to, with one line naming the install command', async () => {
    const attempt = ensurePostgres({ url: await deadPostgres(), defaultUrl: await deadPostgres(), requireServer: true });
    await expect(attempt).rejects.toThrow(/^[^\n]*apt-get install postgresql[^\n]*$/);
  });
});

describe('process utilities', () => {
  it('finds an executable on PATH and nothing for a name that is not there', () => {
    const node = findExecutable('node');
    expect(node && existsSync(node)).toBe(true);
    expect(findExecutable('segmenta-no-such-tool')).toBeUndefined();
  });

  it('times out with a message naming what it waited for', async () => {
    await expect(waitFor(() => false, { timeoutMs: 100, what: 'the impossible' })).rejects.toThrow('Timed out after 100 ms waiting for the impossible');
  });
});
