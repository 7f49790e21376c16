-- Sweeps (DESIGN.md "Sweeps"): a sweep row with its whole trial plan, trials as
-- ordinary jobs (sweep_id, trial_index; unique, so no trial is created twice), the
-- pruner's decisions, and jobs.cancel_reason ('pruned': the pruner asked the job to
-- stop, so its terminal status is 'pruned', not 'cancelled').

-- CreateTable
CREATE TABLE "sweeps" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "parameters" JSON NOT NULL,
    "method" TEXT NOT NULL,
    "max_trials" INTEGER NOT NULL,
    "parallelism" INTEGER NOT NULL,
    "seed" BIGINT NOT NULL,
    "objective" JSONB NOT NULL,
    "pruner" JSONB NOT NULL,
    "trials" JSON NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "sweeps_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sweep_decisions" (
    "sweep_id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "epoch" INTEGER NOT NULL,
    "rung" INTEGER,
    "value" DOUBLE PRECISION NOT NULL,
    "threshold" DOUBLE PRECISION,
    "decision" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sweep_decisions_pkey" PRIMARY KEY ("job_id","epoch")
);

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN "sweep_id" UUID,
ADD COLUMN "trial_index" INTEGER,
ADD COLUMN "cancel_reason" TEXT;

-- CreateIndex
CREATE INDEX "sweeps_created_at_id_idx" ON "sweeps"("created_at", "id");

-- CreateIndex
CREATE INDEX "sweeps_status_idx" ON "sweeps"("status");

-- CreateIndex
CREATE INDEX "sweep_decisions_sweep_id_created_at_idx" ON "sweep_decisions"("sweep_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "jobs_sweep_id_trial_index_key" ON "jobs"("sweep_id", "trial_index");

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_sweep_id_fkey" FOREIGN KEY ("sweep_id") REFERENCES "sweeps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sweep_decisions" ADD CONSTRAINT "sweep_decisions_sweep_id_fkey" FOREIGN KEY ("sweep_id") REFERENCES "sweeps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sweep_decisions" ADD CONSTRAINT "sweep_decisions_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
