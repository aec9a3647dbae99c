import nx from '@nx/eslint-plugin';

const services = ['ingestion', 'profiles', 'segmentation', 'offers', 'experiments'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.nx', '**/.data', '**/db/migrations/**', 'tmp/**'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: {
      // Apps never import each other; libs only import libs of the same or a lower layer.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:contracts', 'type:platform', 'type:domain'] },
            // Command-line tools (npm run analyze, propensity): standalone programs over the domain libs, no service.
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:contracts', 'type:platform', 'type:domain'] },
            { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:contracts', 'type:platform'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:platform', 'type:domain', 'type:testing'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            ...services.map((service) => ({
              sourceTag: `scope:${service}`,
              onlyDependOnLibsWithTags: [`scope:${service}`, 'scope:shared'],
            })),
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      // Type information for the promise rules. The project service reads each project's own
      // tsconfig.json (tsconfig.base.json narrowed to the project's files), so a project's lint builds
      // a program of that project and what it imports, not of the whole workspace.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // An unawaited promise loses its rejection (unhandled, or the process dies) and its ordering.
      '@typescript-eslint/no-floating-promises': 'error',
      // An async callback where a void one is expected (event emitters, Express handlers) drops its rejection.
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Contracts and pure domain libs stay framework-free (STYLE.md).
    files: ['libs/contracts/**/*.ts', 'libs/analytics/**/*.ts', 'libs/segment-rules/**/*.ts', 'libs/stats/**/*.ts', 'libs/webhooks/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'pg', 'nats', '@nats-io/*', '@opentelemetry/*', 'drizzle-orm', 'drizzle-orm/*'],
              message: 'contracts and pure domain libs may not import Nest, pg, nats, Drizzle or OpenTelemetry',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Jest configs extend the workspace preset by path.
    files: ['**/jest.config.js'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
