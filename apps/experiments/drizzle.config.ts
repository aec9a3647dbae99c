import { defineConfig } from 'drizzle-kit';

// `npx nx run experiments:db-generate` writes a new migration after a change to src/db/schema.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './apps/experiments/src/db/schema.ts',
  out: './apps/experiments/src/db/migrations',
  schemaFilter: ['experiments'],
});
