import { watchParent } from '@segmenta/chassis';
import { parseCommandLine, runCli } from '@segmenta/cli';
import { DEFAULT_DATA_DIR, DEMO_NATS_PREFIX, runDemo } from './demo';

const USAGE = `Usage: npm run demo [-- options]
  --embedded     use the embedded PGlite database even if a PostgreSQL server is reachable
  --keep         keep the services running after the scenario, and print how to send them events
                 (Ctrl-C, SIGTERM or SIGHUP stops them)
  --keep-data    keep the data of earlier runs (default: every run starts from an empty demo
                 database and demo streams, so it shows the same story)
  --free-ports   take free ports instead of 3001-3005 (when those are taken)
  --source       run the services from their TypeScript sources instead of npm run build's output`;

const SIGNAL_EXIT_CODES: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

async function main(): Promise<void> {
  const { values } = parseCommandLine(process.argv.slice(2), { embedded: 'boolean', keep: 'boolean', 'keep-data': 'boolean', source: 'boolean', 'free-ports': 'boolean' });
  const args = new Set([...values.keys()].map((name) => `--${name}`));
  // However the demo ends (a signal, its npm wrapper killed), its services end with it.
  let stopServices: () => Promise<void> = async () => undefined;
  let stopping: Promise<void> | undefined;
  let resolveStopRequest: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (resolveStopRequest = resolve));
  const stopNow = (reason: string) => {
    if (stopping) return;
    stopping = (async () => {
      process.stdout.write(`\nStopping the services (${reason})…\n`);
      await stopServices();
      process.exit(SIGNAL_EXIT_CODES[reason] ?? 1);
    })();
  };
  let keeping = false;
  // While --keep waits, this is the normal way out; before that it interrupts the scenario.
  const requestStop = (reason: string) => (keeping ? resolveStopRequest() : stopNow(reason));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => requestStop(signal));
  if (process.ppid > 1) watchParent(() => requestStop('its parent process ended'), { SEGMENTA_EXIT_WITH_PARENT: String(process.ppid) });

  const demo = await runDemo({
    embedded: args.has('--embedded'),
    keep: args.has('--keep'),
    keepData: args.has('--keep-data'),
    mode: args.has('--source') ? 'source' : 'dist',
    freePorts: args.has('--free-ports'),
    prefix: process.env.NATS_PREFIX ?? DEMO_NATS_PREFIX,
    dataDir: process.env.DEMO_DATA_DIR ?? DEFAULT_DATA_DIR,
    print: (line) => process.stdout.write(`${line}\n`),
    onStarted: (stop) => (stopServices = stop),
  });
  if (args.has('--keep')) {
    keeping = true;
    await stopRequested;
  }
  process.stdout.write('Stopping the services…\n');
  await demo.stop();
  process.stdout.write('Done.\n');
}

runCli(USAGE, main, { failurePrefix: 'Demo failed: ' });
