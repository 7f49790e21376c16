-- Sweeps belong to a tenant like jobs do (DESIGN.md "Auth and tenants"); their trials
-- are created with the sweep's tenant. Sweeps that exist before this go to `default`.
ALTER TABLE "sweeps" ADD COLUMN "tenant_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000000';

CREATE INDEX "sweeps_tenant_id_created_at_id_idx" ON "sweeps"("tenant_id", "created_at", "id");

ALTER TABLE "sweeps" ADD CONSTRAINT "sweeps_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
