#!/usr/bin/env node
// The test command (`npm test`, and what .ci/run calls): type check, formatting (Prettier), lint
// with the module boundaries, then every project's Jest tests against real NATS and PostgreSQL (found or started
// by libs/infra's Jest global setup). Ends with one summary line: "N passed, N failed".
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_SKIP_NX_CACHE: process.env.CI ? 'true' : process.env.NX_SKIP_NX_CACHE };
const extraJestArgs = process.argv.slice(2);

function step(title, command, args, extraEnv = {}) {
  const started = Date.now();
  process.stdout.write(`\n▶ ${title}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...env, ...extraEnv } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    process.stdout.write(`✖ ${title} failed after ${seconds} s\n`);
    return false;
  }
  process.stdout.write(`✔ ${title} (${seconds} s)\n`);
  return true;
}

const started = Date.now();
if (!step('type check', bin('tsc'), ['-p', 'tsconfig.base.json', '--noEmit'])) process.exit(1);
if (!step('format (prettier --check; `npm run format` fixes)', bin('prettier'), ['--check', '--log-level=warn', '.'])) process.exit(1);
if (!step('lint (module boundaries)', bin('nx'), ['run-many', '-t', 'lint', '--outputStyle=static'])) process.exit(1);

const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'segmenta-jest-')), 'report.json');
// PGlite loads its WebAssembly through import(), which Jest's VM allows only with this flag.
const jestOk = step(
  'tests (Jest, real NATS + PostgreSQL)',
  process.execPath,
  // --forceExit: every suite closes what it opens, yet the multi-project run sometimes keeps the
  // parent alive after the last suite (not reproducible per project, even with --detectOpenHandles).
  ['--experimental-vm-modules', path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--json', `--outputFile=${report}`, '--forceExit', ...extraJestArgs],
  { NODE_NO_WARNINGS: '1' },
);
let passed = 0;
let failed = 0;
if (fs.existsSync(report)) {
  const summary = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed = summary.numPassedTests;
  failed = summary.numFailedTests + (summary.numRuntimeErrorTestSuites ?? 0);
}
process.stdout.write(`\nTotal time ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
process.exit(jestOk && failed === 0 && passed > 0 ? 0 : 1);
