// The API serves the built dashboard: index.html on the dashboard's own paths with a
// strict CSP that the page can keep (no inline script or style), hashed assets cached
// for good, and everything else still answered by the API (404 in the error shape).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.js';

let h: TestApp;
before(async () => {
  h = await createTestApp('dashboard-static');
});
after(async () => {
  await h?.close();
});

test("GET / answers the dashboard's HTML under Content-Security-Policy default-src 'self', with no inline script or style", async () => {
  const res = await h.app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /^default-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const scripts = [...res.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  for (const [, attrs, body] of scripts) {
    assert.match(attrs!, /src="\/assets\/app-[A-Z0-9]+\.js"/);
    assert.equal(body!.trim(), '', 'no inline script');
  }
  assert.doesNotMatch(res.body, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler');
});

test('the assets the HTML names are served with their types and cached as immutable', async () => {
  const html = (await h.app.inject({ method: 'GET', url: '/' })).body;
  const urls = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  assert.deepEqual(urls.map((u) => u.split('.').at(-1)).sort(), ['css', 'js', 'svg']);
  for (const url of urls) {
    const res = await h.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
    const type = String(res.headers['content-type']);
    if (url.endsWith('.js')) assert.match(type, /javascript/);
    if (url.endsWith('.css')) assert.match(type, /text\/css/);
    assert.match(String(res.headers['cache-control']), /immutable/);
    assert.ok(res.rawPayload.length > 100, url);
  }
});

test("the dashboard's own paths answer the same HTML; other paths and files outside the assets do not", async () => {
  const index = (await h.app.inject({ method: 'GET', url: '/' })).body;
  for (const url of ['/jobs/0b8e7a52-0000-4000-8000-000000000000', '/compare?jobs=a,b', '/submit', '/sweeps']) {
    const res = await h.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
    assert.equal(res.body, index, url);
  }
  for (const url of ['/v2/nothing', '/jobs', '/assets/../package.json', '/assets/%2e%2e/index.html', '/assets/nope.js']) {
    const res = await h.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 404, url);
  }
  assert.equal((await h.app.inject({ method: 'GET', url: '/v2/nothing' })).json().error.code, 'NOT_FOUND');
});

test('the dashboard routes stay out of the OpenAPI document', async () => {
  const paths = Object.keys((await h.app.inject({ method: 'GET', url: '/docs/json' })).json().paths);
  assert.ok(!paths.some((p) => p === '/' || p.startsWith('/assets') || p.startsWith('/compare')), paths.join(', '));
});
