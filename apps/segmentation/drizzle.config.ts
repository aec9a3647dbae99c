import { defineConfig } from 'drizzle-kit';

// `npx nx run segmentation:db-generate` writes a new migration after a change to src/db/schema.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './apps/segmentation/src/db/schema.ts',
  out: './apps/segmentation/src/db/migrations',
  schemaFilter: ['segmentation'],
});
