-- Auth and tenants (DESIGN.md "Auth and tenants"): tenants, API keys stored as
-- SHA-256 digests, an audit log, and the tenant of every job and checkpoint.
-- Rows that exist before this migration belong to the tenant `default`.

-- CreateTable
CREATE TABLE "tenants" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tenants_name_key" ON "tenants"("name");

-- The tenant `default` has a fixed id (src/api/auth/tenants.ts DEFAULT_TENANT_ID).
INSERT INTO "tenants" ("id", "name") VALUES ('00000000-0000-4000-8000-000000000000', 'default');

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "scopes" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"("prefix");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_tenant_id_created_at_idx" ON "api_keys"("tenant_id", "created_at");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" UUID,
    "key_id" UUID,
    "key_prefix" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "data" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_log_created_at_idx" ON "audit_log"("created_at");

-- Jobs: every existing job goes to `default`. The API always names the tenant; the
-- default is for rows written by tools and tests.
ALTER TABLE "jobs" ADD COLUMN "tenant_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000000';

-- An Idempotency-Key names a job within its tenant.
DROP INDEX "jobs_idempotency_key_key";

-- CreateIndex
CREATE UNIQUE INDEX "jobs_tenant_id_idempotency_key_key" ON "jobs"("tenant_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "jobs_tenant_id_status_created_at_id_idx" ON "jobs"("tenant_id", "status", "created_at", "id");

-- CreateIndex
CREATE INDEX "jobs_tenant_id_created_at_id_idx" ON "jobs"("tenant_id", "created_at", "id");

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Checkpoints: an upload names its tenant; a job's checkpoint always takes its job's
-- tenant (set here, so the worker's writes need not know tenants and cannot get it
-- wrong); a row with neither (tools, tests) goes to `default`, as jobs do. The column
-- is nullable for Prisma's sake; the CHECK makes it required.
ALTER TABLE "checkpoints" ADD COLUMN "tenant_id" UUID;
UPDATE "checkpoints" SET "tenant_id" = '00000000-0000-4000-8000-000000000000';

CREATE FUNCTION "checkpoints_tenant_from_job"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."job_id" IS NOT NULL THEN
    SELECT "tenant_id" INTO NEW."tenant_id" FROM "jobs" WHERE "id" = NEW."job_id";
  ELSIF NEW."tenant_id" IS NULL THEN
    NEW."tenant_id" := '00000000-0000-4000-8000-000000000000';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER "checkpoints_tenant_from_job" BEFORE INSERT OR UPDATE OF "job_id", "tenant_id" ON "checkpoints"
  FOR EACH ROW EXECUTE FUNCTION "checkpoints_tenant_from_job"();

ALTER TABLE "checkpoints" ADD CONSTRAINT "checkpoints_tenant_id_required" CHECK ("tenant_id" IS NOT NULL);

-- AddForeignKey
ALTER TABLE "checkpoints" ADD CONSTRAINT "checkpoints_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
