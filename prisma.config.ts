import { defineConfig } from 'prisma/config';

// Prisma 7 keeps the connection URL here, not in schema.prisma. Migrations are
// applied by our own runner (src/db/migrate.ts); the CLI is only used to generate.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/trainyard' },
});
