// The served OpenAPI document is valid — by the OpenAPI validator and, schema by
// schema, by JSON Schema 2020-12 (the dialect OpenAPI 3.1 uses) — and the document the
// build generated the client types from is the one the app serves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { validate, compileErrors } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

let h: TestApp;
before(async () => {
  h = await createTestApp('openapi');
});
after(async () => {
  await h?.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function servedDocument(): Promise<any> {
  const res = await h.app.inject({ method: 'GET', url: '/docs/json' });
  assert.equal(res.statusCode, 200);
  return res.json();
}

test('/docs/json is a valid OpenAPI 3.1 document by @readme/openapi-parser', async () => {
  const doc = await servedDocument();
  assert.equal(doc.openapi, '3.1.0');
  const result = await validate(structuredClone(doc));
  assert.ok(result.valid, result.valid ? '' : compileErrors(result));
});

test('every schema in the document compiles as JSON Schema 2020-12', async () => {
  const doc = await servedDocument();
  // strict: false — OpenAPI adds its own keywords (example, discriminator…) next to JSON Schema's
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  let count = 0;
  const check = (schema: unknown, where: string) => {
    count++;
    assert.ok(ajv.validateSchema(schema as object), `${where}: ${ajv.errorsText(ajv.errors)}`);
  };
  for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      for (const p of op.parameters ?? []) if (p.schema) check(p.schema, `${method} ${path} parameter ${p.name}`);
      for (const [type, c] of Object.entries<any>(op.requestBody?.content ?? {})) check(c.schema, `${method} ${path} body ${type}`);
      for (const [status, r] of Object.entries<any>(op.responses ?? {})) {
        for (const [type, c] of Object.entries<any>(r.content ?? {})) if (c.schema) check(c.schema, `${method} ${path} ${status} ${type}`);
      }
    }
  }
  for (const [name, s] of Object.entries(doc.components?.schemas ?? {})) check(s, `components.schemas.${name}`);
  assert.ok(count > 40, `checked ${count} schemas`);
});

test('the document the client types were generated from is the one the app serves', async () => {
  const generated = JSON.parse(readFileSync(new URL('../../../src/generated/openapi.json', import.meta.url), 'utf8'));
  assert.deepEqual(generated, await servedDocument());
});
