// Generates a migration for every app whose src/db/schema.ts changed: `npm run drizzle:generate -- --name <name>`.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const extra = process.argv.slice(2);
// drizzle-kit loads schema.ts with its own esbuild, which reads ./tsconfig.json: without one it
// neither resolves the @segmenta/* paths (schemas call outboxTables from @segmenta/messaging) nor
// compiles the contracts' legacy decorators. A temporary one extending the base config does both.
const tsconfig = path.join(root, 'tsconfig.json');
const madeTsconfig = !fs.existsSync(tsconfig);
if (madeTsconfig) fs.writeFileSync(tsconfig, '{ "extends": "./tsconfig.base.json" }\n');
process.on('exit', () => madeTsconfig && fs.rmSync(tsconfig, { force: true }));
for (const app of fs.readdirSync(path.join(root, 'apps'))) {
  const config = path.join('apps', app, 'drizzle.config.ts');
  if (!fs.existsSync(path.join(root, config))) continue;
  process.stdout.write(`${app}: `);
  execFileSync(path.join(root, 'node_modules', '.bin', 'drizzle-kit'), ['generate', '--config', config, ...extra], { cwd: root, stdio: 'inherit' });
}
