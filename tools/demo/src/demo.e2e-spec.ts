import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT, waitFor } from '@segmenta/infra';
import { createTestNamespace } from '@segmenta/messaging';

// Five services each initialise an embedded database on two cores.
jest.setTimeout(480_000);

const natsUrl = process.env.NATS_URL as string;
const namespace = createTestNamespace(natsUrl, 'demo');
const dataDir = mkdtempSync(join(tmpdir(), 'segmenta-demo-'));

afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await namespace.cleanup();
});

/** Starts the demo and resolves once its output matches `until` (or it exits), leaving it running. */
function startDemoProcess(args: string[], until: RegExp): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', join(WORKSPACE_ROOT, 'tools/scripts/dev-register.js'), join(WORKSPACE_ROOT, 'tools/demo/src/main.ts'), ...args], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, NATS_PREFIX: namespace.prefix, DEMO_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    // 'close', not 'exit': by then every line it printed has arrived.
    const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
    const handle = { child, output: () => output, exited };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (until.test(output)) resolve(handle);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => resolve(handle));
  });
}

/** Runs the demo to its end. */
async function runDemoProcess(args: string[]): Promise<{ code: number | null; output: string }> {
  const demo = await startDemoProcess(args, /(?!)/);
  const code = await demo.exited;
  return { code, output: demo.output() };
}

const refusesConnections = (url: string) =>
  fetch(`${url}/health`).then(
    () => false,
    () => true,
  );

describe('the demo (npm run demo)', () => {
  it('runs all five services on the embedded PGlite alone, shows the journey arriving in profiles, prints a working first event, and its services end with it', async () => {
    const demo = await startDemoProcess(['--embedded', '--source', '--free-ports', '--keep'], /Ready: [^\n]*\n(.*\n){6}/);
    const output = demo.output();
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
    expect(output).toMatch(/cluster-[a-z0-9-]+ +[1-9]\d* +\d+ %/);
    // Offers: the loyalty team's offer for camera-intent, redeemed once at checkout, the code's second use refused.
    expect(output).toMatch(/offer "camera-fans-10": 10% off cameras for segment camera-intent, 500 unique codes \(each redeemable once\), active/);
    expect(output).toMatch(/camera-fans-10 {2}because: member of Camera intent {2}code CAM10-\w+ \(reserved for this customer\)/);
    expect(output).toMatch(/checkout: the customer redeems CAM10-\w+ on a 899\.00 EUR camera order → 89\.90 EUR off/);
    expect(output).toMatch(/a second use of CAM10-\w+ is refused: 409 code already redeemed/);
    // Loyalty: earned with the segment's multiplier, pending then available, spent, clawed back, Gold at once with its offer.
    expect(output).toMatch(/order demo-order-10, 1,299\.00 EUR: 2598 points = 1,299 × 1 point per euro × 2 \(member of camera-intent\), pending until \S+; tier Silver/);
    expect(output).toMatch(/the return window passed: 2598 points available/);
    expect(output).toMatch(/the customer spends 500 points at checkout: 2098 left/);
    expect(output).toMatch(/demo-order-10 is returned: its 2098 unspent points are clawed back \(500 were spent already, and the balance holds nothing else to take them from\); 0 available/);
    expect(output).toMatch(/order demo-order-12, 1,600\.00 EUR: 3200 points pending; the year's points cross 3,000 → tier Gold at once/);
    expect(output).toMatch(/checkout offers now include gold-express {2}because: tier Gold/);
    // Journeys: the camera e-mail once with a unique code and a verified signature, redeemed; no second e-mail; the capped customer skipped; the reminder.
    expect(output).toMatch(/demo-fan-\w+ views cameras 3 times → enters camera-fans-this-week → e-mail "10 % off your next camera" with code MAIL10-\w+; signature verified \(Standard Webhooks\)/);
    expect(output).toMatch(/checkout: demo-fan-\w+ redeems MAIL10-\w+ → 201/);
    expect(output).toMatch(/views cameras 3 more times: no second e-mail \(re-entry policy: never\)/);
    expect(output).toMatch(/the camera e-mail is skipped: frequency cap: 1 per day reached/);
    expect(output).toMatch(/report camera-fans-10: entered 2, sent 1, delivered 1, skipped by the cap 1/);
    expect(output).toMatch(/loyalty\.points_expiring → push "points-expiring" to the loyalty customer/);
    // Experiments: 200 shoppers split at checkout by offers in process, exposures and orders in the aggregates, the planted lift shown.
    expect(output).toMatch(/200 shoppers view cameras and reach checkout: \d+ are shown free shipping, \d+ 10 % off/);
    expect(output).toMatch(/control +exposed +\d+ +ordered +[\d.]+ %/);
    expect(output).toMatch(/ten-off +exposed +\d+ +ordered +[\d.]+ %/);
    expect(output).toMatch(/10 % off − free shipping: -?[\d.]+ points \(95 % CI -?[\d.]+ to -?[\d.]+\), p = [\d.]+; chance to beat control [\d.]+ %/);
    expect(output).toMatch(
      /net of the rewards' cost \(44\.90 EUR per 10 %-off order\): 10 % off − free shipping [+−][\d.]+ EUR per shopper \(95 % CI [+−][\d.]+ EUR to [+−][\d.]+ EUR\); over the \d+ shoppers shown 10 % off [+−][\d.]+ EUR/,
    );
    expect(output).toMatch(/sample-ratio check: p = [\d.]+ \(no mismatch\)/);
    expect(output).toMatch(
      /the loop: segment camera-intent's KPIs \(GET http:\S+\/v1\/segments\/camera-intent\/kpis\) now show checkout-camera-offer: orders [+−][\d.]+ points, net revenue [+−][\d.]+ EUR per shopper with 10 % off/,
    );
    // Every shopper was in camera-intent when exposed: the segment's lift is the experiment's.
    const overallPoints = /10 % off − free shipping: (-?[\d.]+) points/.exec(output)?.[1];
    const segmentPoints = /now show checkout-camera-offer: orders ([+−])([\d.]+) points/.exec(output);
    expect(segmentPoints).not.toBeNull();
    expect(Number(`${(segmentPoints as RegExpExecArray)[1] === '−' ? '-' : ''}${(segmentPoints as RegExpExecArray)[2]}`)).toBeCloseTo(Number(overallPoints), 1);
    // Money carries its currency.
    expect(output).toMatch(/mean CLV/);
    expect(output).toMatch(/\d+\.\d\d EUR/);
    // --keep: the block to paste works as printed.
    const curl = /curl -s -u '([^']+):' -H 'content-type: application\/json' \\\n\s+-d '([^']+)' (http:\/\/127\.0\.0\.1:\d+\/v1\/track)/.exec(output);
    expect(curl).not.toBeNull();
    const [, writeKey, body, trackUrl] = curl as RegExpExecArray;
    const sent = await fetch(trackUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` }, body });
    expect(sent.status).toBe(200);
    // Killed outright (no chance to clean up), the demo's services notice and stop on their own.
    const urls = [...output.matchAll(/^ {2}(ingestion|profiles|segmentation|offers|experiments)\s+(http:\/\/127\.0\.0\.1:\d+)\s+ready after/gm)].map((m) => m[2]);
    expect(urls).toHaveLength(5);
    demo.child.kill('SIGKILL');
    await demo.exited;
    await waitFor(async () => (await Promise.all(urls.map(refusesConnections))).every(Boolean), { timeoutMs: 30_000, what: 'the services to stop after the demo was killed' });
  });

  it('rejects an unknown option in one line with exit code 2, and answers --help with the usage', async () => {
    const refused = await runDemoProcess(['--fast']);
    expect(refused.code).toBe(2);
    expect(refused.output.trim()).toBe("Unknown option '--fast' (--help for usage)");
    const help = await runDemoProcess(['--help']);
    expect(help.code).toBe(0);
    expect(help.output).toContain('--embedded');
    expect(help.output).toContain('--free-ports');
    expect(help.output).toContain('--keep-data');
  });
});
