// docker-compose.yml is checked against the Compose Specification's JSON schema (the
// copy dclint ships, schemas/compose.schema.json), since Docker itself is not on
// these machines. YAML merge keys (<<: *app-env) are resolved as Compose does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';
import { parse } from 'yaml';

const Ajv = AjvModule as unknown as typeof AjvModule.default;
const root = fileURLToPath(new URL('../../../', import.meta.url));
// the package does not export the file, so it is read from where npm put it
const schemaPath = `${root}node_modules/dclint/schemas/compose.schema.json`;

function validator() {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
  // Ajv knows draft-07 by its canonical URI; the schema spells it with https and no '#'
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

const compose = () => parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as Record<string, any>;

test('docker-compose.yml is valid against the Compose Specification schema', () => {
  const validate = validator();
  const doc = compose();
  assert.equal(validate(doc), true, JSON.stringify(validate.errors, null, 2));
  // what Trainyard needs of it, beyond the schema: the four services, each dependency defined
  assert.deepEqual(Object.keys(doc.services).sort(), ['api', 'postgres', 'redis', 'worker']);
  for (const [name, service] of Object.entries<Record<string, any>>(doc.services)) {
    for (const dep of Object.keys(service.depends_on ?? {})) assert.ok(dep in doc.services, `${name} depends on ${dep}, which is not a service`);
  }
  assert.equal(doc.services.worker.environment.DATABASE_URL, 'postgresql://postgres@postgres:5432/trainyard', 'the merge key carried the shared environment');
});

test('the schema check refuses a broken file (it is not a no-op)', () => {
  const validate = validator();
  const broken = compose();
  broken.services.api.ports = 3000; // must be a list
  broken.services.worker.restart_policy = 'always'; // no such service key
  assert.equal(validate(broken), false);
  const where = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  assert.ok(where.some((w) => w.startsWith('/services/api/ports')), where.join('\n'));
  assert.ok(where.some((w) => w.startsWith('/services/worker ')), where.join('\n'));
});
