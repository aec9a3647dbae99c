// Shared Jest settings for every project. Type checking is done once by `npm run typecheck`,
// so ts-jest only transpiles (isolatedModules) and the suite stays fast.
const path = require('node:path');
const root = __dirname;

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(root, 'tsconfig.spec.json') }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@segmenta/([a-z-]+)$': path.join(root, 'libs/$1/src/index.ts'),
  },
  testMatch: ['**/?(*.)+(spec|e2e-spec).ts'],
  // Finds or starts NATS and PostgreSQL once per Jest run (libs/infra).
  globalSetup: path.join(root, 'libs/infra/src/jest/global-setup.ts'),
  globalTeardown: path.join(root, 'libs/infra/src/jest/global-teardown.ts'),
  testTimeout: 30000,
};
