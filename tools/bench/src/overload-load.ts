import autocannon from 'autocannon';
import { parseCommandLineOrExit } from '@segmenta/cli';
import { sampleTrackCall } from './sample-events';

/**
 * The overload process (forked by the overload benchmark): single `POST /v1/track` calls, as an
 * SDK without batching sends them, over many connections for a fixed time; prints autocannon's
 * latencies and the count of each status as JSON.
 */
const USAGE = 'Usage (forked by npm run bench): overload-load.js <url> <authorization> <connections> <seconds> <run id>';
const { positionals } = parseCommandLineOrExit(USAGE, process.argv.slice(2), {}, { allowPositionals: true });
const [url, authorization, connections, seconds, runId] = positionals;
const [before, after] = JSON.stringify(sampleTrackCall(0, '@@')).split('@@');
let counter = 0;

autocannon(
  {
    url: `${url}/v1/track`,
    method: 'POST',
    connections: Number(connections),
    duration: Number(seconds),
    timeout: 30,
    headers: { 'content-type': 'application/json', authorization },
    requests: [
      {
        setupRequest: (request) => {
          counter += 1;
          return { ...request, body: `${before}${runId}-${counter}${after}` };
        },
      },
    ],
  },
  (error, result) => {
    if (error) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([status, stats]) => [status, stats.count ?? 0]));
    process.stdout.write(
      JSON.stringify({
        requestsTotal: result.requests.total,
        statuses,
        errors: result.errors,
        timeouts: result.timeouts,
        latencyP50: result.latency.p50,
        latencyP99: result.latency.p99,
        latencyMax: result.latency.max,
        durationSeconds: result.duration,
      }),
    );
  },
);
