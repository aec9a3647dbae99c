// Runs TypeScript sources directly (tests spawn services this way; `nx run <app>:serve` too):
//   node -r ./tools/scripts/dev-register.js apps/<app>/src/main.ts
// Each file is transpiled on require with the workspace's compiler options (decorator metadata
// included, which NestJS needs); type checking is `npm run typecheck`'s job.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');
const tsConfigPaths = require('tsconfig-paths');

const root = path.resolve(__dirname, '..', '..');
const configFile = ts.readConfigFile(path.join(root, 'tsconfig.base.json'), ts.sys.readFile);
const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
const compilerOptions = { ...options, module: ts.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: true, inlineSources: false, declaration: false, noEmit: false };

tsConfigPaths.register({ baseUrl: root, paths: { '@segmenta/*': ['libs/*/src/index'] }, addMatchAll: false });

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
