import autocannon from 'autocannon';
import { parseCommandLineOrExit } from '@segmenta/cli';
import { autocannonSummary } from './autocannon-summary';
import { batchTemplate } from './sample-events';

/**
 * The load process (forked by the benchmark so that load generation does not share an event loop
 * with what it measures): POSTs batches with unique message ids for a fixed time and prints
 * autocannon's result as JSON.
 */
const USAGE = 'Usage (forked by npm run bench): load.js <url> <authorization> <connections> <seconds> <batch size> <run id> [<requests per second>]';
const { positionals } = parseCommandLineOrExit(USAGE, process.argv.slice(2), {}, { allowPositionals: true });
const [url, authorization, connections, seconds, batchSize, runId, requestsPerSecond] = positionals;
const { parts } = batchTemplate(Number(batchSize));
let counter = 0;

autocannon(
  {
    url: `${url}/v1/batch`,
    method: 'POST',
    connections: Number(connections),
    duration: Number(seconds),
    // Paced load (requests per second over all connections) when given; as fast as possible otherwise.
    ...(requestsPerSecond ? { overallRate: Number(requestsPerSecond) } : {}),
    headers: { 'content-type': 'application/json', authorization },
    requests: [
      {
        setupRequest: (request) => {
          counter += 1;
          return { ...request, body: parts.join(`${runId}-${counter}`) };
        },
      },
    ],
  },
  (error, result) => {
    if (error) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    process.stdout.write(JSON.stringify(autocannonSummary(result)));
  },
);
