// Reads metric histories from `metric_points` (primary key job_id, name, step).
// Every query walks that key: keyset pages and CSV batches by (name, step), and
// downsampling bucket by bucket over step ranges, computed in Postgres so the API
// process never holds a whole series.
//
// Downsampling (maxPoints) is M4: the step range [lo, hi] of a series is cut into
// B = floor(maxPoints / 4) buckets of equal step width; each bucket keeps its first
// and last point and the points with its smallest and largest value (ties: the
// earliest step), deduplicated when they coincide. So the first and last point of
// the series are always there, and no spike or dip is hidden.
//
// NaN: Postgres orders NaN above every number, so a plain max() would report NaN as
// the bucket's maximum and hide the real one. min/max therefore skip NaN, and a
// bucket that holds NaN also keeps its first NaN point, so divergence stays visible.
// ±Infinity are ordered values and simply are the extremes when present. The NaN
// point can push a series over maxPoints; then the series is recomputed with
// floor(maxPoints / 5) buckets, which always fits (for maxPoints < 10, where that is
// a single bucket of up to 5 points, the NaN point is what gets dropped).
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';

/** A stored metric value, as the API returns it. */
export interface MetricPointRow {
  step: number;
  epoch: number;
  value: number;
  time: Date;
}

export interface SeriesKey {
  jobId: string;
  name: string;
}

export interface MetricSeries extends SeriesKey {
  points: MetricPointRow[];
  /** true when the series had more than maxPoints points in range and was reduced */
  downsampled: boolean;
}

/** Inclusive step range; a missing bound is open. */
export interface StepRange {
  from?: number;
  to?: number;
}

/** Position after the last point of a page: keyset on (name, step). */
export interface MetricCursor {
  name: string;
  step: number;
}

export interface MetricNameSummary {
  name: string;
  count: number;
  minStep: number;
  maxStep: number;
}

/** The smallest maxPoints that fits M4's four points of one bucket. */
export const MIN_MAX_POINTS = 4;

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

function bounds(range: StepRange): { from: number; to: number } {
  return { from: range.from ?? INT_MIN, to: range.to ?? INT_MAX };
}

export async function jobExists(prisma: PrismaClient, jobId: string): Promise<boolean> {
  const rows = await prisma.$queryRaw<{ one: number }[]>`SELECT 1 AS one FROM jobs WHERE id = ${jobId}::uuid`;
  return rows.length > 0;
}

/** Ids of the given jobs that do not exist. */
export async function missingJobs(prisma: PrismaClient, jobIds: string[]): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT k.id::text AS id FROM unnest(${jobIds}::uuid[]) AS k(id)
    WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = k.id)`;
  return rows.map((r) => r.id);
}

/**
 * Every metric name of a job with its point count and step span. The count needs
 * a pass over the job's index entries (O(points)); the names page is not a
 * dashboard hot path.
 */
export async function listMetricNames(prisma: PrismaClient, jobId: string): Promise<MetricNameSummary[]> {
  return prisma.$queryRaw<MetricNameSummary[]>`
    SELECT name, count(*)::int AS count, min(step) AS "minStep", max(step) AS "maxStep"
    FROM metric_points WHERE job_id = ${jobId}::uuid
    GROUP BY name ORDER BY name`;
}

/**
 * Names a job has points for, read as a loose index scan: one index probe per
 * distinct name instead of a pass over every point.
 */
export async function metricNames(prisma: PrismaClient, jobId: string): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ name: string }[]>`
    WITH RECURSIVE names(name) AS (
      (SELECT name FROM metric_points WHERE job_id = ${jobId}::uuid ORDER BY name LIMIT 1)
      UNION ALL
      SELECT (SELECT p.name FROM metric_points p WHERE p.job_id = ${jobId}::uuid AND p.name > names.name ORDER BY p.name LIMIT 1)
      FROM names WHERE names.name IS NOT NULL
    )
    SELECT name FROM names WHERE name IS NOT NULL`;
  return rows.map((r) => r.name);
}

export interface PageQuery {
  jobId: string;
  /** empty: every name */
  names: string[];
  range: StepRange;
  after?: MetricCursor;
  limit: number;
}

export interface MetricPage {
  rows: (MetricPointRow & { name: string })[];
  /** null when this page reached the end */
  next: MetricCursor | null;
}

function pageWhere(q: Omit<PageQuery, 'limit'>): Prisma.Sql {
  const { from, to } = bounds(q.range);
  const names = q.names.length > 0 ? Prisma.sql`AND name = ANY(${q.names}::text[])` : Prisma.empty;
  // The row comparison on (job_id, name, step) is an index condition of the primary
  // key, so a page starts where the last one ended whatever the page number.
  const after = q.after
    ? Prisma.sql`AND (job_id, name, step) > (${q.jobId}::uuid, ${q.after.name}, ${q.after.step}::int)`
    : Prisma.empty;
  return Prisma.sql`job_id = ${q.jobId}::uuid ${names} AND step BETWEEN ${from}::int AND ${to}::int ${after}`;
}

/**
 * One page of points ordered by (name, step). Points appended while a client pages
 * through land after its cursor (steps only grow), so no point is seen twice or
 * skipped, which OFFSET could not promise.
 */
export async function readPage(prisma: PrismaClient, q: PageQuery): Promise<MetricPage> {
  const rows = await prisma.$queryRaw<(MetricPointRow & { name: string })[]>`
    SELECT name, step, epoch, value, time FROM metric_points
    WHERE ${pageWhere(q)}
    ORDER BY job_id, name, step LIMIT ${q.limit + 1}::int`;
  if (rows.length <= q.limit) return { rows, next: null };
  rows.length = q.limit;
  const last = rows[q.limit - 1]!;
  return { rows, next: { name: last.name, step: last.step } };
}

/** CSV field: quoted only when it must be (RFC 4180). */
const CSV_NAME = Prisma.sql`CASE WHEN name ~ '[",\r\n]' THEN '"' || replace(name, '"', '""') || '"' ELSE name END`;
// float8 text output is the shortest exact form (extra_float_digits 1), NaN and
// ±Infinity spelled out; time as ISO 8601 UTC with milliseconds, like JSON's.
const CSV_LINE = Prisma.sql`${CSV_NAME} || ',' || step || ',' || epoch || ',' || value::text || ',' ||
  to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export const CSV_HEADER = 'name,step,epoch,value,time\n';

/**
 * A full export as CSV text, one chunk per batch of `batchSize` points read by
 * keyset on (name, step). Postgres formats the lines, so each batch is one string
 * and the process holds one batch at a time, whatever the series length.
 */
export async function* csvChunks(
  prisma: PrismaClient,
  q: Omit<PageQuery, 'limit' | 'after'>,
  batchSize = 10_000,
): AsyncGenerator<string> {
  yield CSV_HEADER;
  let after: MetricCursor | undefined;
  for (;;) {
    const [batch] = await prisma.$queryRaw<{ lines: string | null; n: number; last_name: string | null; last_step: number | null }[]>`
      WITH page AS (
        SELECT name, step, ${CSV_LINE} AS line FROM metric_points
        WHERE ${pageWhere({ ...q, after })}
        ORDER BY job_id, name, step LIMIT ${batchSize}::int
      ), tail AS (SELECT name, step FROM page ORDER BY name DESC, step DESC LIMIT 1)
      SELECT string_agg(line, E'\n' ORDER BY name, step) AS lines, count(*)::int AS n,
             (SELECT name FROM tail) AS last_name, (SELECT step FROM tail) AS last_step
      FROM page`;
    if (!batch || batch.n === 0 || batch.lines === null) return;
    yield batch.lines + '\n';
    if (batch.n < batchSize) return;
    after = { name: batch.last_name!, step: batch.last_step! };
  }
}

interface PointRow extends MetricPointRow {
  ord: number;
}

interface SpanRow {
  ord: number;
  n: number;
}

const keysTable = (keys: SeriesKey[]) => Prisma.sql`
  unnest(${keys.map((k) => k.jobId)}::uuid[], ${keys.map((k) => k.name)}::text[]) WITH ORDINALITY AS k(job_id, name, ord)`;

/**
 * Per series: the number of points in range, counted only up to maxPoints + 1 (an
 * index range probe, not a count of the whole series).
 */
async function cappedCounts(prisma: PrismaClient, keys: SeriesKey[], range: StepRange, maxPoints: number): Promise<SpanRow[]> {
  const { from, to } = bounds(range);
  return prisma.$queryRaw<SpanRow[]>`
    SELECT k.ord::int AS ord, c.n FROM ${keysTable(keys)}
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS n FROM (
        SELECT 1 FROM metric_points p
        WHERE p.job_id = k.job_id AND p.name = k.name AND p.step BETWEEN ${from}::int AND ${to}::int
        LIMIT ${maxPoints + 1}::int) x
    ) c`;
}

async function wholeSeries(prisma: PrismaClient, keys: SeriesKey[], range: StepRange): Promise<PointRow[]> {
  const { from, to } = bounds(range);
  return prisma.$queryRaw<PointRow[]>`
    SELECT k.ord::int AS ord, p.step, p.epoch, p.value, p.time FROM ${keysTable(keys)}
    JOIN metric_points p ON p.job_id = k.job_id AND p.name = k.name AND p.step BETWEEN ${from}::int AND ${to}::int
    ORDER BY k.ord, p.step`;
}

const POINT = Prisma.raw('p.step, p.epoch, p.value, p.time');

const NAN = Prisma.raw("'NaN'::float8");

/**
 * M4 over `buckets` equal step-width buckets per series. Per bucket, one index range
 * scan computes first/last step and min/max value; a bucket whose plain min/max is
 * NaN (NaN sorts highest) is rescanned without NaN; then index probes find the
 * earliest step holding the min, the max and the first NaN. Postgres
 * visits each point in range once or twice and returns at most 5 per bucket.
 */
async function m4(prisma: PrismaClient, keys: SeriesKey[], range: StepRange, buckets: number): Promise<PointRow[]> {
  const { from, to } = bounds(range);
  const inRange = (b: string) =>
    Prisma.raw(`p.job_id = ${b}.job_id AND p.name = ${b}.name AND p.step BETWEEN ${b}.blo AND ${b}.bhi`);
  // Every point is fetched by an index probe inside its bucket, and MATERIALIZED
  // fences keep the plan a chain of such probes even when the table has no
  // statistics yet (a fresh table once planned a join against the whole series).
  const query = Prisma.sql`
    WITH span AS MATERIALIZED (
      SELECT k.ord, k.job_id, k.name, lo.step AS lo, hi.step AS hi FROM ${keysTable(keys)}
      CROSS JOIN LATERAL (SELECT step FROM metric_points p WHERE p.job_id = k.job_id AND p.name = k.name
        AND p.step BETWEEN ${from}::int AND ${to}::int ORDER BY p.step LIMIT 1) lo
      CROSS JOIN LATERAL (SELECT step FROM metric_points p WHERE p.job_id = k.job_id AND p.name = k.name
        AND p.step BETWEEN ${from}::int AND ${to}::int ORDER BY p.step DESC LIMIT 1) hi
    ), bucket AS (
      -- width w = floor((hi - lo) / B) + 1, so B buckets of w steps cover [lo, hi]
      SELECT s.ord, s.job_id, s.name, s.lo + i * w.w AS blo, least(s.lo + (i + 1) * w.w - 1, s.hi) AS bhi
      FROM span s
      CROSS JOIN LATERAL (SELECT ((s.hi::bigint - s.lo) / ${buckets}::int + 1)::int AS w) w
      CROSS JOIN LATERAL generate_series(0, ${buckets}::int - 1) i
      WHERE s.lo + i::bigint * w.w <= s.hi
    ), agg AS (
      SELECT b.*, a.first_step, a.last_step, a.mn, a.mx, a.mx = ${NAN} AS has_nan
      FROM bucket b CROSS JOIN LATERAL (
        SELECT min(step) AS first_step, max(step) AS last_step, min(value) AS mn, max(value) AS mx
        FROM metric_points p WHERE ${inRange('b')}
      ) a
      WHERE a.first_step IS NOT NULL
    ), extremes AS (
      SELECT g.*, nullif(g.mn, ${NAN}) AS min_v, CASE WHEN g.has_nan THEN f.mx ELSE g.mx END AS max_v
      FROM agg g LEFT JOIN LATERAL (
        SELECT max(value) AS mx FROM metric_points p WHERE g.has_nan AND ${inRange('g')} AND p.value <> ${NAN}
      ) f ON true
    ), pick AS MATERIALIZED (
      SELECT e.ord, x.* FROM extremes e CROSS JOIN LATERAL (
        (SELECT ${POINT} FROM metric_points p WHERE ${inRange('e')} AND p.step = e.first_step)
        UNION (SELECT ${POINT} FROM metric_points p WHERE ${inRange('e')} AND p.step = e.last_step)
        UNION (SELECT ${POINT} FROM metric_points p WHERE e.min_v IS NOT NULL AND ${inRange('e')} AND p.value = e.min_v ORDER BY p.step LIMIT 1)
        UNION (SELECT ${POINT} FROM metric_points p WHERE e.max_v IS NOT NULL AND ${inRange('e')} AND p.value = e.max_v ORDER BY p.step LIMIT 1)
        UNION (SELECT ${POINT} FROM metric_points p WHERE e.has_nan AND ${inRange('e')} AND p.value = ${NAN} ORDER BY p.step LIMIT 1)
      ) x
    )
    SELECT ord::int AS ord, step, epoch, value, time FROM pick ORDER BY ord, step`;
  // The planner's estimate for this query is large enough to trigger JIT
  // compilation, which costs more (tens of ms) than the query saves.
  // (Prisma's default 5 s transaction timeout would cut off a reduction of a very
  // long series, which reads every point in range.)
  const [, rows] = await prisma.$transaction(
    [prisma.$executeRaw`SET LOCAL jit = off`, prisma.$queryRaw<PointRow[]>(query)],
    { timeout: 120_000 },
  );
  return rows;
}

/** Drops the NaN extra of a single-bucket M4 result to fit maxPoints (maxPoints < 10 only). */
function trimToCap(points: MetricPointRow[], maxPoints: number): MetricPointRow[] {
  if (points.length <= maxPoints) return points;
  const kept = points.filter((p, i) => !Number.isNaN(p.value) || i === 0 || i === points.length - 1);
  return kept.length <= maxPoints ? kept : [kept[0]!, kept[kept.length - 1]!];
}

function group(rows: PointRow[], count: number): MetricPointRow[][] {
  const out: MetricPointRow[][] = Array.from({ length: count }, () => []);
  for (const { ord, ...point } of rows) out[ord - 1]!.push(point);
  return out;
}

/**
 * Each series at most maxPoints points: returned whole when it fits, else reduced
 * by M4 in Postgres. Series come back in the order of `keys`; a key without points
 * in range gives an empty series.
 */
export async function downsampledSeries(
  prisma: PrismaClient,
  keys: SeriesKey[],
  range: StepRange,
  maxPoints: number,
): Promise<MetricSeries[]> {
  if (!Number.isInteger(maxPoints) || maxPoints < MIN_MAX_POINTS) throw new RangeError(`maxPoints must be an integer >= ${MIN_MAX_POINTS}`);
  if (keys.length === 0) return [];
  const counts = await cappedCounts(prisma, keys, range, maxPoints);
  const fits = new Set(counts.filter((c) => c.n <= maxPoints).map((c) => c.ord));
  const small = keys.filter((_, i) => fits.has(i + 1));
  const large = keys.filter((_, i) => !fits.has(i + 1));

  const smallPoints = small.length > 0 ? group(await wholeSeries(prisma, small, range), small.length) : [];
  let largePoints = large.length > 0 ? group(await m4(prisma, large, range, Math.floor(maxPoints / 4)), large.length) : [];

  const over = largePoints.map((p, i) => (p.length > maxPoints ? i : -1)).filter((i) => i >= 0);
  if (over.length > 0) {
    const retryKeys = over.map((i) => large[i]!);
    const retried = group(await m4(prisma, retryKeys, range, Math.max(1, Math.floor(maxPoints / 5))), retryKeys.length);
    largePoints = largePoints.slice();
    over.forEach((i, j) => (largePoints[i] = trimToCap(retried[j]!, maxPoints)));
  }

  let s = 0;
  let l = 0;
  return keys.map((key, i) =>
    fits.has(i + 1)
      ? { ...key, points: smallPoints[s++]!, downsampled: false }
      : { ...key, points: largePoints[l++]!, downsampled: true },
  );
}
