#!/usr/bin/env -S node --
// `node --` keeps Node 20 from taking our --env-file flag as its own (nodejs/node#54232).
// dist/ is one esbuild bundle; with TODO_DB_DEBUG its source maps put stack traces back in src/.
if (process.env.TODO_DB_DEBUG) process.setSourceMapsEnabled(true)
// Node 22.1+ keeps the compiled bundle on disk between runs (in its default cache folder, or
// NODE_COMPILE_CACHE's); Node 20 has no such function and starts as before.
const { enableCompileCache } = await import('node:module')
try {
  enableCompileCache?.()
} catch {
  // a read-only or missing cache folder only costs the saving
}
const { main } = await import('../dist/main.js')

main(process.argv)
