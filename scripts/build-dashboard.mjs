// The dashboard's static files: esbuild bundles src/dashboard/main.ts (with uPlot)
// and styles.css into content-hashed files under dist/dashboard/assets/, and writes
// index.html naming them. No CDN, no inline script or style: it works offline and
// under `Content-Security-Policy: default-src 'self'`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const out = 'dist/dashboard';
rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'assets'), { recursive: true });
const result = await build({
  entryPoints: { app: 'src/dashboard/main.ts', style: 'src/dashboard/styles.css' },
  outdir: path.join(out, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.entries(result.metafile.outputs).filter(([f]) => !f.endsWith('.map'));
const pick = (ext) => path.basename(outputs.find(([f]) => f.endsWith(ext))[0]);
const html = readFileSync('src/dashboard/index.html', 'utf8').replace('{{js}}', pick('.js')).replace('{{css}}', pick('.css'));
writeFileSync(path.join(out, 'index.html'), html);
copyFileSync('src/dashboard/favicon.svg', path.join(out, 'assets', 'favicon.svg'));
const sizes = outputs.map(([f, o]) => `${path.basename(f)} ${(o.bytes / 1024).toFixed(1)} KiB`).join(', ');
console.log(`build-dashboard: ${out}/ (${sizes})`);
