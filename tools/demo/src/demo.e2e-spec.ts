import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '@segmenta/infra';
import { createTestNamespace } from '@segmenta/messaging';

// Five services each initialise an embedded database on two cores.
jest.setTimeout(180_000);

const natsUrl = process.env.NATS_URL as string;
const namespace = createTestNamespace(natsUrl, 'demo');
const dataDir = mkdtempSync(join(tmpdir(), 'segmenta-demo-'));

afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await namespace.cleanup();
});

function runDemoProcess(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', join(WORKSPACE_ROOT, 'tools/scripts/dev-register.js'), join(WORKSPACE_ROOT, 'tools/demo/src/main.ts'), ...args], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, NATS_PREFIX: namespace.prefix, DEMO_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('the demo (npm run demo)', () => {
  it('runs all five services on the embedded PGlite alone and shows the journey arriving in profiles', async () => {
    const { code, output } = await runDemoProcess(['--embedded', '--source', '--free-ports']);
    expect(output).toContain('embedded PGlite');
    for (const service of ['ingestion', 'profiles', 'segmentation', 'offers', 'experiments']) {
      expect(output).toMatch(new RegExp(`${service}\\s+ready\\s+database pglite, nats up`));
    }
    expect(output).toMatch(/7\/7 calls of demo-customer-\w+ stored once each/);
    // One profile: the anonymous device merged into the identified customer, with its features.
    expect(output).toMatch(/identities\s+.*anonymous_id=demo-device-\w+/);
    expect(output).toMatch(/identities\s+.*user_id=demo-customer-\w+/);
    expect(output).toMatch(/identities\s+.*email=demo-customer-\w+@example\.com.*\(1 profile merged in\)/);
    expect(output).toMatch(/features\s+orders 1, revenue 899\.00 EUR, AOV 899\.00, recency 0 d, lifecycle new/);
    expect(output).toMatch(/affinity\s+cameras [\d.]+, lenses [\d.]+\s+\(top category cameras\)/);
    // Segments: the rule segments, the RFM grid and lifecycle stages with sizes; the customer placed.
    expect(output).toMatch(/120 more shoppers sent as \d+ calls through POST \/v1\/batch/);
    expect(output).toMatch(/camera-intent\s+[1-9]\d*\s+Camera intent\s+\(time-based/);
    expect(output).toMatch(/dach-buyers\s+[1-9]\d*\s+DACH buyers/);
    expect(output).toMatch(/rfm-champions\s+\d+\s+RFM: Champions/);
    expect(output).toMatch(/lifecycle-new\s+[1-9]\d*\s+New customers/);
    expect(output).toMatch(/the customer is in: .*camera-intent/);
    expect(output).toMatch(/the customer is in: .*dach-buyers/);
    expect(output).toMatch(/the customer is in: .*rfm-/);
    expect(output).toMatch(/BG\/NBD fitted on \d+ customers .*: P\(alive\), expected orders and CLV refreshed for \d+ profiles/);
    expect(output).toMatch(/discovered [3-6] micro-segments among \d+ customers with orders/);
    expect(output).toMatch(/customers, +\d+ % of revenue → (Win-back|Onboarding|Reactivation|VIP|Cross-sell|Premium|Nurture):/);
    expect(output).toMatch(/segment KPIs \(POST/);
    expect(output).toMatch(/cluster-[a-z0-9-]+ +[1-9]\d* +\d+%/);
    expect(output).toContain('Done.');
    expect(code).toBe(0);
  });

  it('rejects an unknown option with its usage and exit code 2', async () => {
    const { code, output } = await runDemoProcess(['--fast']);
    expect(code).toBe(2);
    expect(output).toContain('Unknown option --fast');
    expect(output).toContain('--embedded');
  });
});
