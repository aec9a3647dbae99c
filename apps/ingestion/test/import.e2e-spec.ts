import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { startServiceUnderTest, type ServiceUnderTest } from '@segmenta/chassis';
import { WORKSPACE_ROOT } from '@segmenta/infra';
import { startIngestion } from '../src/start';

/** The bulk import CLI against a real ingestion, NATS and database. */
jest.setTimeout(60_000);

const ADMIN_KEY = 'import-admin-key-0123456789';
let service: ServiceUnderTest;
let nc: NatsConnection;
let url: string;
let writeKey: string;
const dir = mkdtempSync(join(tmpdir(), 'segmenta-import-'));

function runImport(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', join(WORKSPACE_ROOT, 'tools/scripts/dev-register.js'), join(WORKSPACE_ROOT, 'apps/ingestion/src/import/import-cli.ts'), ...args], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, WRITE_KEY: writeKey, INGESTION_URL: url },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function streamCount(): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(`${service.prefix}_EVENTS`)).state.messages;
}

beforeAll(async () => {
  service = await startServiceUnderTest(startIngestion, { label: 'imp', env: { ADMIN_API_KEY: ADMIN_KEY } });
  url = `http://127.0.0.1:${(service.app.getHttpServer().address() as AddressInfo).port}`;
  nc = await connect({ servers: service.natsUrl });
  const source = await request(service.app.getHttpServer()).post('/v1/sources').set('authorization', `Bearer ${ADMIN_KEY}`).send({ name: 'Import' }).expect(201);
  writeKey = source.body.writeKey;
});

afterAll(async () => {
  await nc?.close();
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run import', () => {
  it('imports the valid rows of an orders CSV, reports the bad ones by line, and stores nothing twice on a re-run', async () => {
    const lines = ['customer_id,order_id,timestamp,amount,currency,category'];
    for (let i = 0; i < 250; i += 1) lines.push(`c-${i % 40},o-${i},2026-0${1 + (i % 9)}-1${i % 10}T10:00:00Z,${(10 + i * 1.5).toFixed(2)},EUR,"cameras, lenses"`);
    lines[11] = 'c-1,o-bad-1,yesterday,10.00,EUR,cameras';
    lines[101] = ',o-bad-2,2026-01-01T00:00:00Z,10.00,EUR,cameras';
    lines[201] = 'c-2,o-bad-3,2026-01-01T00:00:00Z,ten,EUR,cameras';
    const file = join(dir, 'orders.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);

    const before = await streamCount();
    const first = await runImport(['--kind', 'orders', '--file', file, '--batch', '40']);
    expect(first.stdout).toContain('rows read   250');
    expect(first.stdout).toContain('imported    247');
    expect(first.stdout).toContain('rejected    3');
    expect(first.stdout).toMatch(/line 12: timestamp "yesterday" is not a date/);
    expect(first.stdout).toMatch(/line 102: customer_id a customer id is required/);
    expect(first.stdout).toMatch(/line 202: amount "ten" is not a number/);
    expect(first.code).toBe(1);
    expect(await streamCount()).toBe(before + 247);

    const second = await runImport(['--kind', 'orders', '--file', file]);
    expect(second.stdout).toContain('imported    247');
    expect(await streamCount()).toBe(before + 247);
  });

  it('imports customers from NDJSON, rejecting lines that are not JSON objects', async () => {
    const file = join(dir, 'customers.ndjson');
    writeFileSync(file, ['{"id":"c-1","email":"ada@example.com","country":"DE"}', '{"id":"c-2","email":"grace@example.com"}', 'not json', '', '[1,2]', '{"email":"no-id@example.com"}'].join('\n'));
    const result = await runImport(['--kind', 'customers', '--file', file]);
    expect(result.stdout).toContain('rows read   5');
    expect(result.stdout).toContain('imported    2');
    expect(result.stdout).toMatch(/line 3: line not JSON/);
    expect(result.stdout).toMatch(/line 5: line not a JSON object/);
    expect(result.stdout).toMatch(/line 6: customer_id a customer id is required/);
  });

  it('checks a file without sending in a dry run, and lists only the first 50 rejected lines of many', async () => {
    const lines = ['customer_id,order_id,timestamp,amount'];
    for (let i = 0; i < 600; i += 1) lines.push(i % 5 === 0 ? `c-${i},o-${i},never,1.00` : `c-${i},o-${i},2026-01-01T00:00:00Z,1.00`);
    const file = join(dir, 'many-bad.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const before = await streamCount();
    const result = await runImport(['--kind', 'orders', '--file', file, '--dry-run', '--concurrency', '2']);
    expect(result.stdout).toContain('Checked (dry run, nothing sent)');
    expect(result.stdout).toContain('rows read   600');
    expect(result.stdout).toContain('valid       480');
    expect(result.stdout).toContain('rejected    120');
    // Listed in line order from the first bad row (line 2), 50 of them, then the count of the rest.
    const listedLines = [...result.stdout.matchAll(/line (\d+): timestamp "never" is not a date/g)].map((m) => Number(m[1]));
    expect(listedLines).toEqual(Array.from({ length: 50 }, (_, k) => 2 + 5 * k));
    expect(result.stdout).toContain('… and 70 more');
    expect(await streamCount()).toBe(before);
  });

  it('explains a wrong write key and bad arguments', async () => {
    const file = join(dir, 'one.csv');
    writeFileSync(file, 'customer_id,email\nc-1,a@example.com\n');
    const refused = await runImport(['--kind', 'customers', '--file', file, '--write-key', 'wrong']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('ingestion refused the write key: Unknown write key');
    const usage = await runImport(['--kind', 'products', '--file', file]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--kind must be customers or orders');
  });

  it('answers --help with the usage and exit code 0, and refuses an unknown option with one line and exit code 2', async () => {
    const help = await runImport(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run import -- --kind customers\|orders --file/);
    expect(help.stdout).toContain('--dry-run');
    const unknown = await runImport(['--kind', 'orders', '--fil', 'orders.csv']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("Unknown option '--fil' (--help for usage)\n");
  });
});
