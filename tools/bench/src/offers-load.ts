import autocannon from 'autocannon';
import { parseCommandLineOrExit } from '@segmenta/cli';
import { benchProfileId } from './bench-ids';

/**
 * The load process of the offers bench (forked, so load generation does not share an event loop
 * with what it measures): GETs `<url><path>` for a fixed time, `{p}` in the path replaced by a
 * random one of `<profiles>` seeded profile ids, and prints autocannon's result as JSON.
 */
const USAGE = 'Usage (forked by npm run bench): offers-load.js <url> <path> <authorization> <connections> <seconds> <profiles>';
const { positionals } = parseCommandLineOrExit(USAGE, process.argv.slice(2), {}, { allowPositionals: true });
const [url, path, authorization, connections, seconds, profiles] = positionals;

autocannon(
  {
    url,
    connections: Number(connections),
    duration: Number(seconds),
    headers: { authorization },
    requests: [{ setupRequest: (request) => ({ ...request, method: 'GET', path: path.replace('{p}', benchProfileId(Math.floor(Math.random() * Number(profiles)))) }) }],
  },
  (error, result) => {
    if (error) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    process.stdout.write(
      JSON.stringify({ requestsPerSecond: result.requests.average, ok: result['2xx'], notOk: result.non2xx, errors: result.errors, latencyP50: result.latency.p50, latencyP99: result.latency.p99 }),
    );
  },
);
