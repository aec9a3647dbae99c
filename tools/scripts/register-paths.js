// Resolves the `@segmenta/<lib>` path aliases to the compiled libs under dist/ at run time:
//   node -r ./tools/scripts/register-paths.js dist/apps/<app>/src/main.js
const path = require('node:path');
const tsConfigPaths = require('tsconfig-paths');

tsConfigPaths.register({
  baseUrl: path.resolve(__dirname, '..', '..', 'dist'),
  paths: { '@segmenta/*': ['libs/*/src/index'] },
  addMatchAll: false,
});
