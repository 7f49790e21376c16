// schema.prisma is the source of truth, but migrations are SQL written by hand
// (Prisma's schema engine cannot be downloaded here). This test migrates a fresh
// database and compares what Postgres reports (information_schema, pg_indexes)
// with what schema.prisma declares, as Prisma's own parser reads it: the
// prisma-schema wasm module that ships inside the `prisma` package (get_dmmf).
// Adding a field, index or relation to schema.prisma without a migration fails here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { defaultMigrationsDir } from '../../src/db/migrate.js';

// ---------------------------------------------------------------- DMMF via wasm

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isUpdatedAt: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  fields: { name: string; sortOrder?: 'asc' | 'desc' }[];
}
interface Datamodel {
  models: DmmfModel[];
  enums: { name: string; dbName?: string | null }[];
  indexes: DmmfIndex[];
}

/** Prisma's own schema parser: the wasm-bindgen module bundled in node_modules/prisma/build. */
export function getDatamodel(schema: string): Datamodel {
  const require = createRequire(import.meta.url);
  const wasmPath = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'prisma_schema_build_bg.wasm');
  const module = new WebAssembly.Module(readFileSync(wasmPath));
  let ex: Record<string, any> = {};
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });
  const str = (ptr: number, len: number) => decoder.decode(new Uint8Array(ex.memory.buffer, ptr >>> 0, len));
  let panic = '';
  // The imports are wasm-bindgen glue whose names carry a per-build hash; match by prefix.
  const glue: [string, (...a: number[]) => unknown][] = [
    ['__wbg_Error_', (p, n) => new Error(str(p!, n!))],
    ['__wbg___wbindgen_throw_', (p, n) => {
      throw new Error(str(p!, n!));
    }],
    ['__wbg_set_message_', (p, n) => {
      panic = str(p!, n!);
    }],
    ['__wbindgen_init_externref_table', () => {
      const table = ex.__wbindgen_externrefs as WebAssembly.Table;
      const offset = table.grow(4);
      table.set(0, undefined);
      table.set(offset, undefined);
      table.set(offset + 1, null);
      table.set(offset + 2, true);
      table.set(offset + 3, false);
    }],
  ];
  const imports: Record<string, Record<string, unknown>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const fn = glue.find(([prefix]) => imp.name.startsWith(prefix))?.[1];
    if (!fn) throw new Error(`prisma-schema wasm wants an unknown import ${imp.name}: update getDatamodel for this Prisma version`);
    (imports[imp.module] ??= {})[imp.name] = fn;
  }
  ex = new WebAssembly.Instance(module, imports as WebAssembly.Imports).exports;
  ex.__wbindgen_start();

  const input = new TextEncoder().encode(JSON.stringify({ prismaSchema: schema, noColor: true }));
  const ptr = ex.__wbindgen_malloc(input.length, 1) >>> 0;
  new Uint8Array(ex.memory.buffer, ptr, input.length).set(input);
  let out: [number, number, number, number];
  try {
    out = ex.get_dmmf(ptr, input.length);
  } catch (err) {
    throw new Error(`prisma-schema wasm panicked: ${panic || (err as Error).message}`);
  }
  if (out[3]) throw new Error(`schema.prisma does not parse: ${(ex.__wbindgen_externrefs.get(out[2]) as Error).message}`);
  const json = str(out[0], out[1]);
  ex.__wbindgen_free(out[0], out[1], 1);
  return (JSON.parse(json) as { datamodel: Datamodel }).datamodel;
}

// ------------------------------------------------- what schema.prisma declares

// Postgres's identifier limit; Prisma truncates default constraint names to fit it.
const MAX_IDENT = 63;
function constraintName(table: string, columns: string[], suffix: string): string {
  const base = columns.length ? `${table}_${columns.join('_')}` : table;
  return base.slice(0, MAX_IDENT - suffix.length - 1) + `_${suffix}`;
}

function expectedType(f: DmmfField, enumDbNames: Map<string, string>): string {
  if (f.isList) throw new Error(`${f.name}: list fields are not supported by this drift test yet; teach it`);
  if (f.kind === 'enum') return `enum ${enumDbNames.get(f.type) ?? f.type}`;
  const [native, args = []] = f.nativeType ?? [null, []];
  const withArgs = (name: string) => (args.length ? `${name}(${args.join(',')})` : name);
  const known: Record<string, Record<string, () => string>> = {
    String: { default: () => 'text', Text: () => 'text', Uuid: () => 'uuid', VarChar: () => withArgs('varchar'), Char: () => withArgs('char'), Citext: () => 'citext', Inet: () => 'inet', Xml: () => 'xml' },
    Int: { default: () => 'integer', Integer: () => 'integer', SmallInt: () => 'smallint', Oid: () => 'oid' },
    BigInt: { default: () => 'bigint', BigInt: () => 'bigint' },
    Float: { default: () => 'double precision', DoublePrecision: () => 'double precision', Real: () => 'real' },
    Decimal: { default: () => 'numeric(65,30)', Decimal: () => (args.length ? withArgs('numeric') : 'numeric'), Money: () => 'money' },
    Boolean: { default: () => 'boolean', Boolean: () => 'boolean' },
    DateTime: {
      default: () => 'timestamp(3)',
      Timestamp: () => `timestamp(${args[0] ?? 6})`,
      Timestamptz: () => `timestamptz(${args[0] ?? 6})`,
      Date: () => 'date',
      Time: () => `time(${args[0] ?? 6})`,
      Timetz: () => `timetz(${args[0] ?? 6})`,
    },
    Json: { default: () => 'jsonb', JsonB: () => 'jsonb', Json: () => 'json' },
    Bytes: { default: () => 'bytea', ByteA: () => 'bytea' },
  };
  const make = known[f.type]?.[native ?? 'default'];
  if (!make) throw new Error(`${f.name}: ${f.type} @db.${native} is not known to this drift test; teach it`);
  return make();
}

function expectedDefault(f: DmmfField): string | null {
  const d = f.default;
  if (d === undefined || d === null) return null;
  if (typeof d === 'object' && !Array.isArray(d)) {
    const { name, args } = d as { name: string; args: unknown[] };
    if (name === 'autoincrement') return 'autoincrement()';
    if (name === 'now') return 'now()';
    if (name === 'dbgenerated') return String(args[0]);
    // Generated by Prisma Client, not by the database.
    if (['uuid', 'cuid', 'nanoid', 'ulid'].includes(name)) return null;
    throw new Error(`${f.name}: default ${name}() is not known to this drift test; teach it`);
  }
  if (typeof d === 'string') return JSON.stringify(d);
  return String(d);
}

const SQL_ACTION: Record<string, string> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

/** One line per table, column, default, index and foreign key that schema.prisma implies. */
export function expectedLines(dm: Datamodel): string[] {
  const lines: string[] = [];
  const table = new Map(dm.models.map((m) => [m.name, m.dbName ?? m.name]));
  const column = (model: string, field: string) => {
    const f = dm.models.find((m) => m.name === model)!.fields.find((x) => x.name === field)!;
    return f.dbName ?? f.name;
  };
  const enumDbNames = new Map(dm.enums.map((e) => [e.name, e.dbName ?? e.name]));

  for (const m of dm.models) {
    const t = table.get(m.name)!;
    lines.push(`table ${t}`);
    for (const f of m.fields) {
      if (f.kind === 'object') {
        if (!f.relationFromFields?.length) continue;
        const from = f.relationFromFields.map((x) => column(m.name, x));
        const to = f.relationToFields!.map((x) => column(f.type, x));
        const onDelete = f.relationOnDelete ?? (f.isRequired ? 'Restrict' : 'SetNull');
        const onUpdate = f.relationOnUpdate ?? 'Cascade';
        lines.push(
          `foreign key ${constraintName(t, from, 'fkey')}: ${t}(${from.join(', ')}) -> ${table.get(f.type)}(${to.join(', ')})` +
            ` on delete ${SQL_ACTION[onDelete]} on update ${SQL_ACTION[onUpdate]}`,
        );
        continue;
      }
      const c = f.dbName ?? f.name;
      lines.push(`column ${t}.${c} ${expectedType(f, enumDbNames)} ${f.isRequired ? 'NOT NULL' : 'NULL'}`);
      const def = expectedDefault(f);
      if (def !== null) lines.push(`default ${t}.${c} ${def}`);
    }
  }
  for (const idx of dm.indexes) {
    const t = table.get(idx.model)!;
    const cols = idx.fields.map((f) => column(idx.model, f.name));
    const colList = idx.fields.map((f, i) => cols[i] + (f.sortOrder === 'desc' ? ' DESC' : '')).join(', ');
    if (idx.type === 'id') lines.push(`primary key ${idx.dbName ?? constraintName(t, [], 'pkey')}: ${t}(${colList})`);
    else if (idx.type === 'unique') lines.push(`unique index ${idx.dbName ?? constraintName(t, cols, 'key')}: ${t}(${colList})`);
    else if (idx.type === 'normal') lines.push(`index ${idx.dbName ?? constraintName(t, cols, 'idx')}: ${t}(${colList})`);
    else throw new Error(`${idx.model}: ${idx.type} indexes are not known to this drift test; teach it`);
  }
  return lines.sort();
}

// ------------------------------------------------------- what Postgres reports

function actualType(c: Record<string, any>): string {
  switch (c.data_type) {
    case 'timestamp with time zone':
      return `timestamptz(${c.datetime_precision})`;
    case 'timestamp without time zone':
      return `timestamp(${c.datetime_precision})`;
    case 'time without time zone':
      return `time(${c.datetime_precision})`;
    case 'time with time zone':
      return `timetz(${c.datetime_precision})`;
    case 'character varying':
      return c.character_maximum_length ? `varchar(${c.character_maximum_length})` : 'varchar';
    case 'character':
      return `char(${c.character_maximum_length})`;
    case 'numeric':
      return c.numeric_precision ? `numeric(${c.numeric_precision},${c.numeric_scale})` : 'numeric';
    case 'USER-DEFINED':
      return c.udt_name === 'citext' ? 'citext' : `enum ${c.udt_name}`;
    default:
      return c.data_type;
  }
}

function actualDefault(raw: string): string {
  if (/^nextval\(/.test(raw)) return 'autoincrement()';
  if (raw === 'CURRENT_TIMESTAMP' || raw === 'now()') return 'now()';
  const literal = /^'((?:[^']|'')*)'::[\w ."]+$/.exec(raw);
  if (literal) return JSON.stringify(literal[1]!.replaceAll("''", "'"));
  return raw;
}

async function actualLines(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const q = async (sql: string) => (await client.query(sql)).rows as Record<string, any>[];
    const bookkeeping = `'_prisma_migrations'`;
    const lines: string[] = [];

    for (const r of await q(`SELECT table_name FROM information_schema.tables
                             WHERE table_schema = 'public' AND table_name <> ${bookkeeping}`)) {
      lines.push(`table ${r.table_name}`);
    }
    for (const c of await q(`SELECT * FROM information_schema.columns
                             WHERE table_schema = 'public' AND table_name <> ${bookkeeping}`)) {
      lines.push(`column ${c.table_name}.${c.column_name} ${actualType(c)} ${c.is_nullable === 'YES' ? 'NULL' : 'NOT NULL'}`);
      if (c.column_default !== null) lines.push(`default ${c.table_name}.${c.column_name} ${actualDefault(c.column_default)}`);
    }

    const primaryKeys = new Set(
      (await q(`SELECT constraint_name FROM information_schema.table_constraints
                WHERE table_schema = 'public' AND constraint_type = 'PRIMARY KEY'`)).map((r) => r.constraint_name),
    );
    for (const i of await q(`SELECT tablename, indexname, indexdef FROM pg_indexes
                             WHERE schemaname = 'public' AND tablename <> ${bookkeeping}`)) {
      const m = /^CREATE (UNIQUE )?INDEX \S+ ON \S+ USING btree \((.*)\)$/.exec(i.indexdef);
      if (!m) {
        lines.push(`unrecognised index ${i.indexname}: ${i.indexdef}`);
        continue;
      }
      const cols = m[2]!.split(', ').map((s: string) => s.replace(/^"(.*)"/, '$1')).join(', ');
      const kind = primaryKeys.has(i.indexname) ? 'primary key' : m[1] ? 'unique index' : 'index';
      lines.push(`${kind} ${i.indexname}: ${i.tablename}(${cols})`);
    }

    for (const fk of await q(`
        SELECT con.conname AS name, src.relname AS from_table, dst.relname AS to_table,
               (SELECT string_agg(a.attname, ', ' ORDER BY k.i) FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS from_cols,
               (SELECT string_agg(a.attname, ', ' ORDER BY k.i) FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                  JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n) AS to_cols,
               rc.delete_rule, rc.update_rule
        FROM pg_constraint con
        JOIN pg_class src ON src.oid = con.conrelid
        JOIN pg_class dst ON dst.oid = con.confrelid
        JOIN pg_namespace ns ON ns.oid = con.connamespace
        JOIN information_schema.referential_constraints rc
          ON rc.constraint_name = con.conname AND rc.constraint_schema = ns.nspname
        WHERE con.contype = 'f' AND ns.nspname = 'public'`)) {
      lines.push(
        `foreign key ${fk.name}: ${fk.from_table}(${fk.from_cols}) -> ${fk.to_table}(${fk.to_cols})` +
          ` on delete ${fk.delete_rule} on update ${fk.update_rule}`,
      );
    }
    return lines.sort();
  } finally {
    await client.end();
  }
}

function driftReport(expected: string[], actual: string[]): string[] {
  const a = new Set(actual);
  const e = new Set(expected);
  return [
    ...expected.filter((l) => !a.has(l)).map((l) => `in schema.prisma, not in the migrated database: ${l}`),
    ...actual.filter((l) => !e.has(l)).map((l) => `in the migrated database, not in schema.prisma: ${l}`),
  ];
}

// ------------------------------------------------------------------- the tests

const schemaPath = path.join(defaultMigrationsDir(), '..', 'schema.prisma');
let db: TestDatabase;
let actual: string[];

before(async () => {
  db = await createTestDatabase('schema-drift');
  actual = await actualLines(db.url);
});
after(() => db?.drop());

test('the migrated database matches schema.prisma (tables, columns, types, nullability, defaults, indexes, foreign keys)', () => {
  const expected = expectedLines(getDatamodel(readFileSync(schemaPath, 'utf8')));
  const drift = driftReport(expected, actual);
  assert.deepEqual(
    drift,
    [],
    `schema.prisma and prisma/migrations disagree; write a migration (prisma/migrations/<timestamp>_<name>/migration.sql):\n  ${drift.join('\n  ')}`,
  );
});

test('a field added to schema.prisma without a migration is reported as drift', () => {
  const schema = readFileSync(schemaPath, 'utf8').replace(
    /(model Job \{\n)/,
    '$1  driftProbe      String?   @map("drift_probe") @db.VarChar(12)\n',
  );
  const drift = driftReport(expectedLines(getDatamodel(schema)), actual);
  assert.deepEqual(drift, ['in schema.prisma, not in the migrated database: column jobs.drift_probe varchar(12) NULL']);
});

test('an index or a changed relation action in schema.prisma without a migration is reported as drift', () => {
  const schema = readFileSync(schemaPath, 'utf8')
    .replace(/(@@map\("metric_points"\))/, '@@index([name, step])\n  $1')
    .replace(/(model JobEvent \{[^}]*?)onDelete: Cascade/, '$1onDelete: Restrict');
  const drift = driftReport(expectedLines(getDatamodel(schema)), actual).join('\n');
  assert.match(drift, /in schema.prisma, not in the migrated database: index metric_points_name_step_idx: metric_points\(name, step\)/);
  assert.match(drift, /job_events_job_id_fkey.*on delete RESTRICT/);
  assert.match(drift, /in the migrated database, not in schema.prisma: foreign key job_events_job_id_fkey.*on delete CASCADE/);
});
