// Runs TypeScript sources directly (tests spawn services this way; `nx run <app>:serve` too):
//   node -r ./tools/scripts/dev-register.js apps/<app>/src/main.ts
// Each file is transpiled on require with the workspace's compiler options (decorator metadata
// included, which NestJS needs); type checking is `npm run typecheck`'s job.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');
const tsConfigPaths = require('tsconfig-paths');

const root = path.resolve(__dirname, '..', '..');
const configFile = ts.readConfigFile(path.join(root, 'tsconfig.base.json'), ts.sys.readFile);
const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
const compilerOptions = { ...options, module: ts.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: true, inlineSources: false, declaration: false, noEmit: false };

tsConfigPaths.register({ baseUrl: root, paths: { '@segmenta/*': ['libs/*/src/index'] }, addMatchAll: false });

// Transpiled files are kept under node_modules/.cache, keyed by the source, its path and the
// compiler: a service started from source spent about a second of its start-up transpiling,
// and tests and the demo start dozens of them (several at once on two cores).
const cacheDir = path.join(root, 'node_modules', '.cache', 'segmenta-ts');
const compilerKey = crypto.createHash('sha256').update(ts.version).update(JSON.stringify(compilerOptions)).digest('hex');
let cacheUsable = true;

function transpile(source, filename) {
  const key = crypto.createHash('sha256').update(compilerKey).update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, key.slice(0, 2), `${key}.js`);
  if (cacheUsable) {
    try {
      return fs.readFileSync(cached, 'utf8');
    } catch {
      // Not transpiled yet.
    }
  }
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  if (cacheUsable) {
    try {
      fs.mkdirSync(path.dirname(cached), { recursive: true });
      // Written under a private name and renamed: a process reading it concurrently sees all or nothing.
      const partial = `${cached}.${process.pid}.partial`;
      fs.writeFileSync(partial, outputText);
      fs.renameSync(partial, cached);
    } catch {
      cacheUsable = false; // a read-only checkout: transpile every time
    }
  }
  return outputText;
}

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
};
