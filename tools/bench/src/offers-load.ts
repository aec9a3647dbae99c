import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { parseCommandLineOrExit } from '@segmenta/cli';
import { benchProfileId } from './bench-ids';

/**
 * The load process of the offers and redemptions benches (forked, so load generation does not
 * share an event loop with what it measures): requests `<url><path>` for a fixed time and prints
 * autocannon's result as JSON. `{p}` in the path (and in the body) is replaced by a random one of
 * `<profiles>` seeded profile ids. GETs, or with --body POSTs that JSON, each with an
 * Idempotency-Key of its own (a redemption is one request).
 */
const USAGE = 'Usage (forked by npm run bench): offers-load.js <url> <path> <authorization> <connections> <seconds> <profiles> [--body=<JSON, {p} for the profile id>]';
const { positionals, values } = parseCommandLineOrExit(USAGE, process.argv.slice(2), { body: 'string' }, { allowPositionals: true });
const [url, path, authorization, connections, seconds, profiles] = positionals;
const body = values.get('body');
const randomProfile = () => benchProfileId(Math.floor(Math.random() * Number(profiles)));

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
    process.stdout.write(
      JSON.stringify({
        requestsPerSecond: result.requests.average,
        ok: result['2xx'],
        notOk: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        latencyP50: result.latency.p50,
        latencyP99: result.latency.p99,
        durationSeconds: result.duration,
        statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats?.count ?? 0])),
      }),
    );
  },
);
