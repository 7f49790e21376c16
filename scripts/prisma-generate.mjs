// `prisma generate`, runnable offline. The Prisma CLI insists on locating a
// schema-engine binary from Prisma's CDN even though generating the TypeScript
// client never runs it. Where that binary is missing we point the CLI at an
// existing file and tell it not to verify checksums; where it is present (a
// connected machine) we leave the CLI alone.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
const enginesDir = path.dirname(require.resolve('@prisma/engines/package.json'));
const hasEngine = readdirSync(enginesDir).some((f) => f.startsWith('schema-engine'));
if (!hasEngine && !env.PRISMA_SCHEMA_ENGINE_BINARY) {
  env.PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING = '1';
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath; // any existing file: generate never runs it
}
const cli = require.resolve('prisma/build/index.js');
const r = spawnSync(process.execPath, [cli, 'generate'], { env, stdio: 'inherit' });
if (r.status !== 0 || !existsSync('src/generated/prisma')) {
  console.error('prisma generate failed');
  process.exit(r.status || 1);
}
