// The first admin key. TRAINYARD_ADMIN_KEY=<value> makes that value an admin key of
// the tenant `default` (CI, docker-compose, scripts). Without it, the first start on
// a database with no keys creates one, writes it to ADMIN_KEY_FILE (mode 0600, in a
// 0700 directory) and logs the file's path — never the key.
import { mkdir, rename, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config.js';
import type { PrismaClient } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { countKeys, insertKey } from '../../db/repositories/keys.js';
import { DEFAULT_TENANT_ID } from '../../db/repositories/tenants.js';
import { recordAudit } from '../../db/repositories/audit.js';
import { envKeyPrefix, generateKey, hashKey } from './keys.js';

/** Two API processes starting on one empty database create one key, not two. */
const BOOTSTRAP_LOCK = 0x7472_6b79; // "trky"

export type BootstrapOutcome =
  | { kind: 'off' }
  | { kind: 'env-key'; created: boolean; revoked: boolean }
  | { kind: 'file'; path: string }
  | { kind: 'keys-exist' };

export async function bootstrapAdminKey(prisma: PrismaClient, config: Config, logger: Logger): Promise<BootstrapOutcome> {
  if (config.auth === 'off') {
    logger.warn({ host: config.host }, 'AUTH=off: every request acts as an admin of every tenant (accepted because HOST is a loopback address)');
    return { kind: 'off' };
  }
  const outcome = await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK}::bigint)`;
    if (config.adminKey !== null) {
      const hash = hashKey(config.adminKey);
      const existing = await tx.apiKey.findUnique({ where: { keyHash: hash }, select: { revokedAt: true } });
      if (existing) return { kind: 'env-key', created: false, revoked: existing.revokedAt !== null } as const;
      const row = await insertKey(tx, { tenantId: DEFAULT_TENANT_ID, name: 'TRAINYARD_ADMIN_KEY', prefix: envKeyPrefix(hash), keyHash: hash, scopes: 'admin' });
      await recordAudit(tx, { tenantId: null, keyId: null, keyPrefix: 'bootstrap' }, 'key.created', row.id, { prefix: row.prefix, from: 'TRAINYARD_ADMIN_KEY' });
      return { kind: 'env-key', created: true, revoked: false } as const;
    }
    if ((await countKeys(tx)) > 0) return { kind: 'keys-exist' } as const;
    const key = generateKey();
    const row = await insertKey(tx, { tenantId: DEFAULT_TENANT_ID, name: 'bootstrap admin', prefix: key.prefix, keyHash: key.hash, scopes: 'admin' });
    await recordAudit(tx, { tenantId: null, keyId: null, keyPrefix: 'bootstrap' }, 'key.created', row.id, { prefix: row.prefix, from: 'first start' });
    // written before the transaction commits: a failed write leaves no key nobody has
    const file = await writeOwnerOnly(config.adminKeyFile, `${key.key}\n`);
    return { kind: 'file', path: file } as const;
  });
  if (outcome.kind === 'env-key' && outcome.revoked) {
    logger.warn('TRAINYARD_ADMIN_KEY names a revoked key: it stays revoked; set a new value');
  } else if (outcome.kind === 'file') {
    logger.info({ path: outcome.path }, `created the first admin key and wrote it to ${outcome.path} (readable by its owner only); use it as: Authorization: Bearer $(cat ${outcome.path})`);
  }
  return outcome;
}

/** Writes `text` to `file` readable and writable by its owner only (0600); returns the absolute path. */
async function writeOwnerOnly(file: string, text: string): Promise<string> {
  const target = path.resolve(file);
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600, flag: 'w' });
  await chmod(temporary, 0o600); // in case the file existed with wider bits
  await rename(temporary, target);
  return target;
}
