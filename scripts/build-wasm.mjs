// Compiles the AssemblyScript kernels (src/core/kernels/assembly/gemm.ts) to
// dist/src/core/kernels/gemm.wasm, next to the compiled wasm.js that loads it, and a
// second time with relaxed SIMD enabled to gemm-relaxed.wasm (the fused multiply-add
// of assembly/madd.ts; an optional path, TRAINYARD_KERNELS=wasm-relaxed).
// Offline: asc and binaryen come from node_modules.
//   node scripts/build-wasm.mjs          build
//   node scripts/build-wasm.mjs --wat    also write gemm.wat for reading
import asc from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const HEAP_BASE = 1 << 20; // src/core/memory.ts
const PAGE = 65536;
const MAX_PAGES = 32768; // src/core/memory.ts MAX_PAGES

const src = 'src/core/kernels/assembly/gemm.ts';
const outDir = 'dist/src/core/kernels';
mkdirSync(outDir, { recursive: true });

function argsFor(out, features) {
  return [
    src,
    '--outFile', path.join(outDir, `${out}.wasm`),
    '--enable', features,
    '--importMemory', '--sharedMemory', '--noExportMemory',
    '--initialMemory', String(HEAP_BASE / PAGE + 16),
    '--maximumMemory', String(MAX_PAGES),
    '--runtime', 'stub',
    // The kernels keep no static data; should any appear, it lands at the bottom of the
    // reserved region below HEAP_BASE, never among tensors.
    '--memoryBase', '0',
    '--noAssert',
    '--use', 'abort=',
    '-O3',
    ...(process.argv.includes('--wat') ? ['--textFile', path.join(outDir, `${out}.wat`)] : []),
  ];
}

for (const [out, features] of [['gemm', 'simd,threads'], ['gemm-relaxed', 'simd,threads,relaxed-simd']]) {
  const { error, stderr } = await asc.main(argsFor(out, features));
  if (error) {
    console.error(stderr.toString());
    console.error(`build-wasm: ${error.message}`);
    process.exit(1);
  }
  console.log(`build-wasm: ${path.join(outDir, `${out}.wasm`)}`);
}
