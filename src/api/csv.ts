// CSV for metric points (RFC 4180): columns name,step,epoch,value,time. Both exports
// (the streamed full history and the reduced series of maxPoints) write every line
// with csvLine, so a value is spelled as in JSON (numberText: shortest round-trip
// decimal, NaN and ±Infinity written out) and time as ISO 8601 UTC with milliseconds.
import { Readable } from 'node:stream';
import { numberText } from '../db/json-number.js';
import type { MetricPointRow, MetricSeries } from '../db/metric-queries.js';

export const CSV_HEADER = 'name,step,epoch,value,time\n';

export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV line (with its newline) for a point of the series `name`. */
export function csvLine(name: string, p: MetricPointRow): string {
  return `${csvField(name)},${p.step},${p.epoch},${numberText(p.value)},${p.time.toISOString()}\n`;
}

/** Already-reduced series (at most maxPoints each) as one CSV text. */
export function seriesToCsv(series: MetricSeries[]): string {
  let out = CSV_HEADER;
  for (const s of series) for (const p of s.points) out += csvLine(s.name, p);
  return out;
}

/** Batches of named points, as CSV text: the header, then one chunk per batch. */
export async function* csvChunks(batches: AsyncIterable<(MetricPointRow & { name: string })[]>): AsyncGenerator<string> {
  yield CSV_HEADER;
  for await (const rows of batches) {
    let chunk = '';
    for (const r of rows) chunk += csvLine(r.name, r);
    yield chunk;
  }
}

/**
 * A stream of text chunks; the consumer's pace drives the generator (backpressure).
 * When the generator throws (a query failing mid-export), the stream errors and
 * Fastify destroys the response, so the client sees a broken transfer (no final
 * chunk), never a clean end of a truncated file.
 */
export function csvStream(chunks: AsyncIterable<string>): Readable {
  return Readable.from(chunks, { objectMode: false });
}
