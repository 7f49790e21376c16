// Logs are JSON when stdout is a pipe or file (for machines), human-readable lines
// when it is a terminal (for people). The terminal is a real pseudo-terminal, made
// by util-linux's `script`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LOGGER = fileURLToPath(new URL('../../src/logger.js', import.meta.url));
const program = `import(${JSON.stringify(LOGGER)}).then(({ createLogger }) => createLogger({ logLevel: 'info' }, { bindings: { service: 'api' } }).info({ jobId: 'j-1' }, 'hello operator'))`;
const hasScript = spawnSync('sh', ['-c', 'command -v script']).status === 0;

test('stdout not a terminal: one JSON object per line', () => {
  const r = spawnSync(process.execPath, ['-e', program], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const line = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
  assert.equal(line.msg, 'hello operator');
  assert.equal(line.jobId, 'j-1');
  assert.equal(line.level, 30);
});

test('stdout a terminal: human-readable lines with the level as a word', { skip: hasScript ? false : 'util-linux script is not installed' }, () => {
  const r = spawnSync('script', ['-qec', `${process.execPath} -e ${JSON.stringify(program)}`, '/dev/null'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // eslint-disable-next-line no-control-regex
  const text = r.stdout.replace(/\u001b\[[0-9;]*m/g, '').replace(/\r/g, '');
  assert.match(text, /INFO.*: hello operator/);
  assert.match(text, /jobId: "j-1"/);
  assert.throws(() => JSON.parse(text.trim().split('\n')[0]!));
});
