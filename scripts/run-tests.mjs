// Runs the compiled test files with node's built-in test runner.
//   node scripts/run-tests.mjs            all tests (unit, integration, then e2e)
//   node scripts/run-tests.mjs unit       only tests/unit (e2e: the browser tests, need Chromium)
// Integration tests need Postgres and Redis (see README). A test that runs longer
// than 2 minutes fails instead of hanging the run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';

const which = process.argv.slice(2);
const roots = (which.length ? which : ['unit', 'integration', 'e2e']).map((w) => path.join('dist/tests', w));

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (f.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = roots.flatMap((r) => walk(r, []));
if (files.length === 0) {
  console.error('no test files found under', roots.join(', '), '(did the build run?)');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=120000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
