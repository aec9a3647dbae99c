import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, parseCommandLine, runCli } from '@segmenta/cli';
import { runAnalyze } from './analyze-cli';
import { generateOrders } from './generate-orders';

/** Browsers that can take a screenshot headless, as Debian packages them (`apt-get install chromium-headless-shell`). */
const BROWSERS = ['chromium-headless-shell', 'chromium', 'chromium-browser', 'google-chrome'];

function findBrowser(): string | null {
  if (process.env.CHROME_PATH) return existsSync(process.env.CHROME_PATH) ? process.env.CHROME_PATH : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter))
    for (const name of BROWSERS) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  return null;
}

/**
 * The report of a generated order file with a real export's oddities (zero-value orders, huge
 * orders cancelled minutes later, partial refunds), rendered by headless Chromium into a PNG.
 * No browser is downloaded: it uses one installed on the machine (CHROME_PATH, or on PATH).
 */
export async function screenshotReport(out: string, print: (text: string) => void): Promise<void> {
  const browser = findBrowser();
  if (!browser) throw new UsageError(`no headless browser found (looked for ${BROWSERS.join(', ')} on PATH, and CHROME_PATH): on Debian, apt-get install chromium-headless-shell`);
  const dir = mkdtempSync(join(tmpdir(), 'report-screenshot-'));
  try {
    const orders = join(dir, 'orders.csv');
    await generateOrders({ customers: 2000, out: orders, seed: 11, days: 730, end: Date.UTC(2026, 9, 31, 18), anomalies: true });
    const { analysis, files } = await runAnalyze(['--orders', orders, '--date-format', 'M/D/YYYY H:mm', '--currency', 'GBP', '--out', join(dir, 'analysis')], () => undefined, true);
    // Without a DevTools client the page cannot be measured: the height follows the number of persona cards (three a row).
    const height = 2350 + Math.ceil(analysis.personas.length / 3) * 460;
    const result = spawnSync(
      browser,
      ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--force-device-scale-factor=1', `--window-size=1280,${height}`, `--screenshot=${out}`, pathToFileURL(files[0]).href],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (result.status !== 0 || !existsSync(out)) throw new Error(`${browser} failed (${result.status ?? result.signal}): ${(result.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`);
    print(`${out}: the report of ${analysis.customers.length} generated customers, taken with ${browser}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const USAGE = `Usage: npm run report:screenshot [-- --out docs/analysis-report.png]`;

if (require.main === module) {
  runCli(USAGE, async () => {
    const args = parseCommandLine(process.argv.slice(2), { out: 'string' }).values;
    await screenshotReport(resolve(args.get('out') ?? 'docs/analysis-report.png'), (t) => process.stdout.write(t));
  });
}
