// Creates the application's database when it does not exist yet, so a fresh
// Postgres needs no manual setup. Connects to the `postgres` maintenance
// database (or `template1` where that was dropped) with the same credentials.
import pg from 'pg';
import type { Logger } from '../logger.js';

const DUPLICATE_DATABASE = '42P04';
// Two concurrent CREATE DATABASE of one name: the loser may hit pg_database's unique index.
const UNIQUE_VIOLATION = '23505';
const INVALID_CATALOG_NAME = '3D000';
// CREATE DATABASE copies template1; two sessions copying it at once fail with this.
const OBJECT_IN_USE = '55006';

export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (name === '') throw new Error(`the database URL names no database: ${redactUrl(url)}`);
  return name;
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

/** The URL without its password, fit for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Runs `fn` on a connection to the maintenance database of the server `url` points at. */
export async function withMaintenanceClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  let client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  try {
    await client.connect();
  } catch (err) {
    if ((err as { code?: string }).code !== INVALID_CATALOG_NAME) throw err;
    client = new pg.Client({ connectionString: withDatabase(url, 'template1') });
    await client.connect();
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Returns true when this call created the database. */
export async function ensureDatabase(url: string, logger?: Logger): Promise<boolean> {
  const name = databaseName(url);
  return withMaintenanceClient(url, async (client) => {
    for (let attempt = 0; ; attempt++) {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount) return false;
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
        logger?.info({ database: name }, 'created database');
        return true;
      } catch (err) {
        const code = (err as { code?: string }).code;
        // Another process (the API and a worker start together) created it first.
        if (code === DUPLICATE_DATABASE) return false;
        if (code === UNIQUE_VIOLATION && attempt < 20) continue;
        if (code === OBJECT_IN_USE && attempt < 20) {
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
          continue;
        }
        throw err;
      }
    }
  });
}
