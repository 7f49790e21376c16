// A diagnosis as lines for people (the CLI): the verdict and its cause once, the main
// finding as the summary, then the other findings and the suggestions.
import type { Diagnosis } from './types.js';

export function formatDiagnosis(d: Diagnosis): string[] {
  const head = [d.verdict, d.severity, d.cause ? `cause: ${d.cause}` : null].filter(Boolean);
  const lines = [`diagnosis: ${head[0]}${head.length > 1 ? ` (${head.slice(1).join(', ')})` : ''} — ${d.summary}`];
  for (const f of d.findings.slice(1)) lines.push(`  - ${f.message}`);
  for (const s of d.suggestions) lines.push(`  → ${s}`);
  return lines;
}
