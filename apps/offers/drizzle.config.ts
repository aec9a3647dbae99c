import { defineConfig } from 'drizzle-kit';

// `npx nx run offers:db-generate` writes a new migration after a change to src/db/schema.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './apps/offers/src/db/schema.ts',
  out: './apps/offers/src/db/migrations',
  schemaFilter: ['offers'],
});
