-- Metric rollups: per (job, name) one row per block of 1024 steps (block = step >> 10,
-- i.e. floor(step / 1024)) with the block's first and last step, its point count,
-- its smallest and largest value other than NaN with their steps (ties: the
-- earliest step) and its first NaN step. Downsampling (M4) of a long series reads
-- these rows instead of every point, so its cost follows the number of buckets and
-- blocks, not the series length (src/db/metric-queries.ts).
--
-- Rows are maintained by statement-level triggers on metric_points (below), so
-- every writer keeps them right without knowing about them:
--   INSERT: the new points of the statement, aggregated per block, are merged into
--     the block's row with INSERT … ON CONFLICT DO UPDATE. The row lock of that
--     upsert serializes concurrent writers of one block, and each merges only its
--     own points, so interleaved inserts add up.
--   UPDATE (the worker upserts replayed epochs: INSERT … ON CONFLICT DO UPDATE):
--     a point whose step and value did not change leaves its block alone; a block
--     with a changed point is locked and recomputed from metric_points.
--   DELETE: the blocks that lost points are recomputed (or removed when empty).

-- CreateTable
CREATE TABLE "metric_rollups" (
    "job_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "block" INTEGER NOT NULL,
    "first_step" INTEGER NOT NULL,
    "last_step" INTEGER NOT NULL,
    "count" INTEGER NOT NULL,
    "min_value" DOUBLE PRECISION,
    "min_step" INTEGER,
    "max_value" DOUBLE PRECISION,
    "max_step" INTEGER,
    "nan_step" INTEGER,

    CONSTRAINT "metric_rollups_pkey" PRIMARY KEY ("job_id","name","block")
);

-- AddForeignKey
ALTER TABLE "metric_rollups" ADD CONSTRAINT "metric_rollups_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One block's aggregate over a set of points (NaN is never a minimum or maximum;
-- min over ARRAY[value, step] picks the smallest value and, on ties, the earliest
-- step; max over ARRAY[value, -step] the largest value and the earliest step).
-- Used by the triggers and by the backfill at the end of this file.
CREATE FUNCTION "metric_rollups_recompute"(keys "metric_rollups"[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  -- Make sure each affected block has a row and lock them in key order: a writer
  -- that merges into one of them waits for this transaction, and this recompute
  -- (a new statement, so a new snapshot) sees every point already merged there.
  INSERT INTO "metric_rollups" ("job_id", "name", "block", "first_step", "last_step", "count")
  SELECT k."job_id", k."name", k."block", k."block" * 1024, k."block" * 1024, 0 FROM unnest(keys) k
  ORDER BY 1, 2, 3
  ON CONFLICT DO NOTHING;
  PERFORM 1 FROM "metric_rollups" r JOIN unnest(keys) k USING ("job_id", "name", "block")
  ORDER BY r."job_id", r."name", r."block" FOR UPDATE OF r;

  UPDATE "metric_rollups" r SET
    "first_step" = a."first_step", "last_step" = a."last_step", "count" = a."count",
    "min_value" = a."mn"[1], "min_step" = a."mn"[2]::int,
    "max_value" = a."mx"[1], "max_step" = (-a."mx"[2])::int, "nan_step" = a."nan_step"
  FROM unnest(keys) k CROSS JOIN LATERAL (
    SELECT min(p."step") AS "first_step", max(p."step") AS "last_step", count(*)::int AS "count",
           min(ARRAY[p."value", p."step"::float8]) FILTER (WHERE p."value" <> 'NaN'::float8) AS "mn",
           max(ARRAY[p."value", -p."step"::float8]) FILTER (WHERE p."value" <> 'NaN'::float8) AS "mx",
           min(p."step") FILTER (WHERE p."value" = 'NaN'::float8) AS "nan_step"
    FROM "metric_points" p
    WHERE p."job_id" = k."job_id" AND p."name" = k."name"
      AND p."step" BETWEEN k."block" * 1024 AND k."block" * 1024 + 1023
  ) a
  WHERE r."job_id" = k."job_id" AND r."name" = k."name" AND r."block" = k."block" AND a."count" > 0;

  DELETE FROM "metric_rollups" r USING unnest(keys) k
  WHERE r."job_id" = k."job_id" AND r."name" = k."name" AND r."block" = k."block"
    AND NOT EXISTS (SELECT 1 FROM "metric_points" p WHERE p."job_id" = k."job_id" AND p."name" = k."name"
                    AND p."step" BETWEEN k."block" * 1024 AND k."block" * 1024 + 1023);
END $$;

CREATE FUNCTION "metric_rollups_after_insert"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "metric_rollups" AS r
    ("job_id", "name", "block", "first_step", "last_step", "count", "min_value", "min_step", "max_value", "max_step", "nan_step")
  SELECT a."job_id", a."name", a."block", a."first_step", a."last_step", a."count",
         a."mn"[1], a."mn"[2]::int, a."mx"[1], (-a."mx"[2])::int, a."nan_step"
  FROM (
    SELECT n."job_id", n."name", n."step" >> 10 AS "block",
           min(n."step") AS "first_step", max(n."step") AS "last_step", count(*)::int AS "count",
           min(ARRAY[n."value", n."step"::float8]) FILTER (WHERE n."value" <> 'NaN'::float8) AS "mn",
           max(ARRAY[n."value", -n."step"::float8]) FILTER (WHERE n."value" <> 'NaN'::float8) AS "mx",
           min(n."step") FILTER (WHERE n."value" = 'NaN'::float8) AS "nan_step"
    FROM "new_points" n
    GROUP BY 1, 2, 3
  ) a
  -- key order, so two writers of the same blocks lock them in the same order
  ORDER BY 1, 2, 3
  ON CONFLICT ("job_id", "name", "block") DO UPDATE SET
    "first_step" = least(r."first_step", EXCLUDED."first_step"),
    "last_step" = greatest(r."last_step", EXCLUDED."last_step"),
    "count" = r."count" + EXCLUDED."count",
    -- the merged minimum: the smaller value, on ties the earlier step (NULL: no value but NaN)
    "min_value" = CASE WHEN r."min_value" IS NULL OR EXCLUDED."min_value" < r."min_value"
                         OR (EXCLUDED."min_value" = r."min_value" AND EXCLUDED."min_step" < r."min_step")
                       THEN EXCLUDED."min_value" ELSE r."min_value" END,
    "min_step" = CASE WHEN r."min_value" IS NULL OR EXCLUDED."min_value" < r."min_value"
                        OR (EXCLUDED."min_value" = r."min_value" AND EXCLUDED."min_step" < r."min_step")
                      THEN EXCLUDED."min_step" ELSE r."min_step" END,
    "max_value" = CASE WHEN r."max_value" IS NULL OR EXCLUDED."max_value" > r."max_value"
                         OR (EXCLUDED."max_value" = r."max_value" AND EXCLUDED."max_step" < r."max_step")
                       THEN EXCLUDED."max_value" ELSE r."max_value" END,
    "max_step" = CASE WHEN r."max_value" IS NULL OR EXCLUDED."max_value" > r."max_value"
                        OR (EXCLUDED."max_value" = r."max_value" AND EXCLUDED."max_step" < r."max_step")
                      THEN EXCLUDED."max_step" ELSE r."max_step" END,
    "nan_step" = least(r."nan_step", EXCLUDED."nan_step");
  RETURN NULL;
END $$;

CREATE FUNCTION "metric_rollups_after_update"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  keys "metric_rollups"[];
BEGIN
  -- Points whose (job, name, step, value) is not the same before and after (a
  -- replayed epoch normally writes the same values: nothing to do).
  SELECT array_agg(ROW(c."job_id", c."name", c."block", 0, 0, 0, NULL, NULL, NULL, NULL, NULL)::"metric_rollups"
                   ORDER BY c."job_id", c."name", c."block")
  INTO keys
  FROM (
    SELECT DISTINCT d."job_id", d."name", d."step" >> 10 AS "block" FROM (
      (SELECT "job_id", "name", "step", "value" FROM "new_points"
       EXCEPT SELECT "job_id", "name", "step", "value" FROM "old_points")
      UNION ALL
      (SELECT "job_id", "name", "step", "value" FROM "old_points"
       EXCEPT SELECT "job_id", "name", "step", "value" FROM "new_points")
    ) d
  ) c;
  IF keys IS NOT NULL THEN
    PERFORM "metric_rollups_recompute"(keys);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION "metric_rollups_after_delete"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  keys "metric_rollups"[];
BEGIN
  -- Blocks of jobs that are themselves being deleted go with the job (ON DELETE CASCADE).
  SELECT array_agg(ROW(c."job_id", c."name", c."block", 0, 0, 0, NULL, NULL, NULL, NULL, NULL)::"metric_rollups"
                   ORDER BY c."job_id", c."name", c."block")
  INTO keys
  FROM (
    SELECT DISTINCT o."job_id", o."name", o."step" >> 10 AS "block" FROM "old_points" o
    WHERE EXISTS (SELECT 1 FROM "jobs" j WHERE j."id" = o."job_id")
  ) c;
  IF keys IS NOT NULL THEN
    PERFORM "metric_rollups_recompute"(keys);
  END IF;
  RETURN NULL;
END $$;

-- Transition tables allow one event per trigger, hence three triggers. Creating
-- them locks metric_points against writes until this migration commits, so the
-- backfill below cannot miss a point written meanwhile.
CREATE TRIGGER "metric_rollups_insert" AFTER INSERT ON "metric_points"
  REFERENCING NEW TABLE AS "new_points"
  FOR EACH STATEMENT EXECUTE FUNCTION "metric_rollups_after_insert"();
CREATE TRIGGER "metric_rollups_update" AFTER UPDATE ON "metric_points"
  REFERENCING OLD TABLE AS "old_points" NEW TABLE AS "new_points"
  FOR EACH STATEMENT EXECUTE FUNCTION "metric_rollups_after_update"();
CREATE TRIGGER "metric_rollups_delete" AFTER DELETE ON "metric_points"
  REFERENCING OLD TABLE AS "old_points"
  FOR EACH STATEMENT EXECUTE FUNCTION "metric_rollups_after_delete"();

-- Backfill from the points already stored.
INSERT INTO "metric_rollups"
  ("job_id", "name", "block", "first_step", "last_step", "count", "min_value", "min_step", "max_value", "max_step", "nan_step")
SELECT a."job_id", a."name", a."block", a."first_step", a."last_step", a."count",
       a."mn"[1], a."mn"[2]::int, a."mx"[1], (-a."mx"[2])::int, a."nan_step"
FROM (
  SELECT p."job_id", p."name", p."step" >> 10 AS "block",
         min(p."step") AS "first_step", max(p."step") AS "last_step", count(*)::int AS "count",
         min(ARRAY[p."value", p."step"::float8]) FILTER (WHERE p."value" <> 'NaN'::float8) AS "mn",
         max(ARRAY[p."value", -p."step"::float8]) FILTER (WHERE p."value" <> 'NaN'::float8) AS "mx",
         min(p."step") FILTER (WHERE p."value" = 'NaN'::float8) AS "nan_step"
  FROM "metric_points" p
  GROUP BY 1, 2, 3
) a;
