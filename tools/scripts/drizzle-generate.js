// Generates a migration for every app whose src/db/schema.ts changed: `npm run drizzle:generate -- --name <name>`;
// `--app <app>` for one app (what `npx nx run <app>:db-generate` runs).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const appAt = args.indexOf('--app');
const only = appAt >= 0 ? args[appAt + 1] : undefined;
const extra = appAt >= 0 ? [...args.slice(0, appAt), ...args.slice(appAt + 2)] : args;
// drizzle-kit loads schema.ts with its own esbuild, which reads ./tsconfig.json: without one it
// neither resolves the @segmenta/* paths (schemas call outboxTables from @segmenta/messaging) nor
// compiles the contracts' legacy decorators. A temporary one extending the base config does both.
const tsconfig = path.join(root, 'tsconfig.json');
const madeTsconfig = !fs.existsSync(tsconfig);
if (madeTsconfig) fs.writeFileSync(tsconfig, '{ "extends": "./tsconfig.base.json" }\n');
process.on('exit', () => madeTsconfig && fs.rmSync(tsconfig, { force: true }));

/**
 * Drizzle's migrator applies a migration only if its journal time (`when`) is later than the last
 * applied one's; drizzle-kit stamps the clock, and an earlier migration may carry a later stamp
 * (0008 of offers does). A new entry stamped before its predecessor moves to a day after it.
 */
function keepJournalInOrder(app) {
  const file = path.join(root, 'apps', app, 'src', 'db', 'migrations', 'meta', '_journal.json');
  if (!fs.existsSync(file)) return;
  const journal = JSON.parse(fs.readFileSync(file, 'utf8'));
  let changed = false;
  for (let i = 1; i < journal.entries.length; i += 1) {
    if (journal.entries[i].when <= journal.entries[i - 1].when) {
      journal.entries[i].when = journal.entries[i - 1].when + 86_400_000;
      changed = true;
    }
  }
  if (changed) fs.writeFileSync(file, `${JSON.stringify(journal, null, 2)}\n`);
}

for (const app of fs.readdirSync(path.join(root, 'apps'))) {
  const config = path.join('apps', app, 'drizzle.config.ts');
  if (!fs.existsSync(path.join(root, config)) || (only !== undefined && app !== only)) continue;
  process.stdout.write(`${app}: `);
  execFileSync(path.join(root, 'node_modules', '.bin', 'drizzle-kit'), ['generate', '--config', config, ...extra], { cwd: root, stdio: 'inherit' });
  keepJournalInOrder(app);
}
