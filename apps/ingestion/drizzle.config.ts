import { defineConfig } from 'drizzle-kit';

// `npx nx run ingestion:db-generate` writes a new migration after a change to src/db/schema.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './apps/ingestion/src/db/schema.ts',
  out: './apps/ingestion/src/db/migrations',
  schemaFilter: ['ingestion'],
});
