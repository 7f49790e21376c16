// CSV for metric points (RFC 4180), in the same spelling as the streamed export
// that Postgres formats (src/db/metric-queries.ts): NaN and ±Infinity written out,
// time as ISO 8601 UTC.
import { Readable } from 'node:stream';
import { CSV_HEADER, type MetricSeries } from '../db/metric-queries.js';

export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A number as Postgres prints a float8: NaN, Infinity, -Infinity, else the shortest exact decimal. */
export function csvNumber(value: number): string {
  return Number.isNaN(value) ? 'NaN' : String(value);
}

/** Already-reduced series (at most maxPoints each) as one CSV text. */
export function seriesToCsv(series: MetricSeries[]): string {
  let out = CSV_HEADER;
  for (const s of series) {
    const name = csvField(s.name);
    for (const p of s.points) out += `${name},${p.step},${p.epoch},${csvNumber(p.value)},${p.time.toISOString()}\n`;
  }
  return out;
}

/** A stream of text chunks; the consumer's pace drives the generator (backpressure). */
export function csvStream(chunks: AsyncGenerator<string>): Readable {
  return Readable.from(chunks, { objectMode: false });
}
