import { defineConfig } from 'drizzle-kit';

// `npx nx run profiles:db-generate` writes a new migration after a change to src/db/schema.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './apps/profiles/src/db/schema.ts',
  out: './apps/profiles/src/db/migrations',
  schemaFilter: ['profiles'],
});
