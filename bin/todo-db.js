#!/usr/bin/env -S node --
// `node --` keeps Node 20 from taking our --env-file flag as its own (nodejs/node#54232).
// dist/ is one esbuild bundle; with TODO_DB_DEBUG its source maps put stack traces back in src/.
if (process.env.TODO_DB_DEBUG) process.setSourceMapsEnabled(true)
const { main } = await import('../dist/main.js')

main(process.argv)
