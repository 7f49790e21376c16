// The dashboard's static files (built by `npm run build` into dist/dashboard):
// index.html for each of the dashboard's own paths, the hashed assets under /assets/.
// Public (DESIGN.md: the static files need no key; the page sends the key itself).
// The HTML carries a strict Content-Security-Policy: the page has no inline script or
// style, so `default-src 'self'` holds and an injected <script> could not run.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { ApiError } from './errors.js';

const ROOT = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/** Keep in step with the routes of src/dashboard/main.ts. */
export const DASHBOARD_PATHS = ['/', '/jobs/:id', '/compare', '/submit', '/sweeps', '/sweeps/:id'];

export const DASHBOARD_CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

export async function installDashboard(app: FastifyInstance, root = ROOT): Promise<void> {
  const indexFile = `${root}index.html`;
  const html = existsSync(indexFile) ? readFileSync(indexFile) : null;
  const sendIndex = async (_req: unknown, reply: FastifyReply) => {
    if (!html) throw new ApiError(503, 'DASHBOARD_NOT_BUILT', 'the dashboard is not built: run `npm run build`');
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(html);
  };
  for (const path of DASHBOARD_PATHS) app.get(path, { schema: { hide: true } }, sendIndex);
  if (!html) return;
  await app.register(fastifyStatic, {
    root: `${root}assets`,
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    // names carry a content hash (scripts/build-dashboard.mjs): cache them for good
    immutable: true,
    maxAge: '365d',
    schemaHide: true,
    setHeaders: (reply) => { reply.header('x-content-type-options', 'nosniff'); },
  });
}
