import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import autocannon from 'autocannon';
import { parseCommandLineOrExit } from '@segmenta/cli';
import { autocannonSummary, type LoadSummary } from './autocannon-summary';
import { benchProfileId } from './bench-ids';
import { openLoop } from './pacing';
import { percentile } from './report';

/**
 * The load process of the offers and redemptions benches (forked, so load generation does not
 * share an event loop with what it measures): requests `<url><path>` for a fixed time and prints
 * autocannon's result as JSON. `{p}` in the path (and in the body) is replaced by a random one of
 * `<profiles>` seeded profile ids, or with --distinct-from=<n> by seeded id n, n+1, … (each asked
 * once: the experiments bench's first exposures). GETs, or with --body POSTs that JSON, each with an
 * Idempotency-Key of its own (a redemption is one request). --rate paces GETs (open loop).
 */
const USAGE =
  'Usage (forked by npm run bench): offers-load.js <url> <path> <authorization> <connections> <seconds> <profiles> [--body=<JSON, {p} for the profile id>] [--rate=<requests/s in all>] [--distinct-from=<first seeded id>]';
const { positionals, values } = parseCommandLineOrExit(USAGE, process.argv.slice(2), { body: 'string', rate: 'string', 'distinct-from': 'string' }, { allowPositionals: true });
const [url, path, authorization, connections, seconds, profiles] = positionals;
const body = values.get('body');
// A paced load (the latency at a given throughput) instead of as fast as the connections go.
const rate = values.has('rate') ? Number(values.get('rate')) : undefined;
let nextDistinct = values.has('distinct-from') ? Number(values.get('distinct-from')) : undefined;
const randomProfile = () => (nextDistinct === undefined ? benchProfileId(Math.floor(Math.random() * Number(profiles))) : benchProfileId(nextDistinct++));

/** The result line the bench reads (with --distinct-from, the next id not asked yet). */
function report(result: LoadSummary): void {
  process.stdout.write(JSON.stringify(nextDistinct === undefined ? result : { ...result, nextDistinct }));
}

/**
 * Paced (--rate): open loop, one GET every 1/rate s over up to `connections` kept-alive sockets,
 * latency from the moment each was due (autocannon's own rate limit sends each second's requests
 * in one burst, which measures its bursts, not the service).
 */
async function pacedGets(rate: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: Number(connections) });
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  const target = new URL(url);
  const get = (dueAt: number) =>
    new Promise<void>((resolve) => {
      const req = httpRequest({ host: target.hostname, port: target.port, path: path.replace('{p}', randomProfile()), agent, headers: { authorization } }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - dueAt);
          statusCodes[String(res.statusCode)] = (statusCodes[String(res.statusCode)] ?? 0) + 1;
          resolve();
        });
      });
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end();
    });
  const started = performance.now();
  const sent = await openLoop(1000 / rate, Math.round(rate * Number(seconds)), (_i, dueAt) => get(dueAt));
  const durationSeconds = (performance.now() - started) / 1000;
  agent.destroy();
  const ok = Object.entries(statusCodes).reduce((n, [code, count]) => (code.startsWith('2') ? n + count : n), 0);
  report({
    requestsPerSecond: sent / durationSeconds,
    requestsTotal: sent,
    ok,
    notOk: latencies.length - ok,
    errors,
    timeouts: 0,
    latencyP50: Math.round(percentile(latencies, 50) * 10) / 10,
    latencyP99: Math.round(percentile(latencies, 99) * 10) / 10,
    durationSeconds,
    statusCodes,
  });
}

if (rate !== undefined) {
  if (body !== undefined) throw new Error('--rate paces GETs only');
  void pacedGets(rate);
} else
  autocannon(
    {
      url,
      connections: Number(connections),
      duration: Number(seconds),
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      requests: [
        {
          setupRequest: (request) =>
            body === undefined
              ? { ...request, method: 'GET', path: path.replace('{p}', randomProfile()) }
              : { ...request, method: 'POST', path, body: body.replace('{p}', randomProfile()), headers: { ...request.headers, 'idempotency-key': randomUUID() } },
        },
      ],
    },
    (error, result) => {
      if (error) {
        process.stderr.write(`${error.message}\n`);
        process.exit(1);
      }
      report(autocannonSummary(result));
    },
  );
