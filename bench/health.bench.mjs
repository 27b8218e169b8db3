// todo-db health against a live server, next to the least a Node program can do (postgres.js,
// connect, select 1) and psql -c 'select 1', measured in turns in the same run.
// Goal: health within 1.3x of the minimal script: the CLI adds almost nothing.
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const RUNS = 15

export default async function ({ cluster, bin, timed: run, median, log }) {
  const url = cluster.url('postgres', 'sslmode=disable')
  const dir = mkdtempSync(join(tmpdir(), 'todo-db-bench-'))
  const minimal = join(dir, 'minimal.mjs')
  const postgresJs = resolve('node_modules/postgres/src/index.js')
  writeFileSync(minimal, `import postgres from ${JSON.stringify(postgresJs)}
const sql = postgres(process.env.DATABASE_URL, { max: 1 })
await sql\`select 1\`
await sql.end()
`)
  const cases = {
    'todo-db health': () => run(process.execPath, [bin, 'health', '--timeout', '5s'], { DATABASE_URL: url }),
    'node + postgres.js select 1': () => run(process.execPath, [minimal], { DATABASE_URL: url }),
    "psql -c 'select 1'": () => run('psql', ['-X', '-q', '-c', 'select 1', url], {}),
  }
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (const f of Object.values(cases)) await f() // warm the page cache
  for (let i = 0; i < RUNS; i++) for (const [name, f] of Object.entries(cases)) times[name].push(await f())
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
  const base = med['node + postgres.js select 1']
  for (const [name, ms] of Object.entries(med)) {
    log(`${name.padEnd(30)} ${ms.toFixed(1).padStart(7)} ms  (${(ms / base).toFixed(2)}x of the minimal script, median of ${RUNS})`)
  }
  const help = []
  const bare = []
  for (let i = 0; i < RUNS; i++) {
    help.push(await run(process.execPath, [bin, '--help'], {}))
    bare.push(await run(process.execPath, ['-e', ''], {}))
  }
  log(`${'todo-db --help'.padEnd(30)} ${median(help).toFixed(1).padStart(7)} ms  (${(median(help) / median(bare)).toFixed(2)}x of starting node)`)
  const ratio = med['todo-db health'] / base
  log(`health ratio: ${ratio.toFixed(2)} (goal <= 1.3) ${ratio <= 1.3 ? 'OK' : 'ABOVE GOAL'}`)
}
