import { DEFAULT_NATS_PREFIX } from '@segmenta/contracts';
import { DEFAULT_DATA_DIR, runDemo } from './demo';

const USAGE = `Usage: npm run demo [-- --embedded] [-- --keep]
  --embedded   use the embedded PGlite database even if a PostgreSQL server is reachable
  --keep       keep the services running after the scenario (Ctrl-C stops them)`;

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  for (const arg of args) {
    if (!['--embedded', '--keep', '--source', '--free-ports', '--help'].includes(arg)) {
      process.stderr.write(`Unknown option ${arg}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  if (args.has('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const demo = await runDemo({
    embedded: args.has('--embedded'),
    keep: args.has('--keep'),
    mode: args.has('--source') ? 'source' : 'dist',
    freePorts: args.has('--free-ports'),
    prefix: process.env.NATS_PREFIX ?? DEFAULT_NATS_PREFIX,
    dataDir: process.env.DEMO_DATA_DIR ?? DEFAULT_DATA_DIR,
    print: (line) => process.stdout.write(`${line}\n`),
  });
  if (args.has('--keep')) {
    process.stdout.write('\nServices keep running; press Ctrl-C to stop them.\n');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  }
  process.stdout.write('Stopping the services…\n');
  await demo.stop();
  process.stdout.write('Done.\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`Demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
