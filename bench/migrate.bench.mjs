// todo-db migrate up on a fresh database against psql -f of the same Up sections (each file in
// its own transaction, as migrate runs them) on another fresh database, same server, same run.
// Goal: within 2x of psql. Both are separate processes, so start-up costs are counted for both;
// a second ratio leaves each tool's bare start-up out.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MIGRATIONS_DIR as MIGRATIONS } from '../test/helpers/migrations.js'

const RUNS = 7

/** The Up sections exactly as node-pg-migrate cuts them, each wrapped in its own transaction. */
async function psqlScript() {
  const { getMigrationFilePaths } = await import('node-pg-migrate/migration')
  const { getActions } = await import('node-pg-migrate/sqlMigration')
  const { readFile } = await import('node:fs/promises')
  const parts = []
  for (const path of await getMigrationFilePaths(MIGRATIONS)) {
    let sql = ''
    getActions(await readFile(path, 'utf8')).up({ sql: (s) => (sql += s) })
    parts.push(`begin;\n${sql}\n;commit;`)
  }
  const file = join(mkdtempSync(join(tmpdir(), 'todo-db-bench-')), 'schema.sql')
  writeFileSync(file, parts.join('\n'))
  return file
}

export default async function ({ cluster, bin, timed: run, median, log }) {
  const script = await psqlScript()
  let n = 0
  const fresh = () => {
    const db = `bench_migrate_${process.pid}_${n++}`
    cluster.psql(`create database ${db}`)
    return db
  }
  const cases = {
    'todo-db migrate up': () => {
      const db = fresh()
      return run(process.execPath, [bin, 'migrate', 'up', '--migrations-dir', MIGRATIONS], { DATABASE_URL: cluster.url(db) })
    },
    'psql -f (same Up SQL)': () => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', script, cluster.url(fresh())]),
    'todo-db --help (start-up)': () => run(process.execPath, [bin, '--help']),
    'node -e 0 (bare Node)': () => run(process.execPath, ['-e', '0']),
    "psql -c 'select 1'": () => run('psql', ['-X', '-q', '-c', 'select 1', cluster.url('postgres')]),
  }
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (const f of Object.values(cases)) await f() // warm the page cache
  // In turns, so a slow moment of the machine hits every case alike.
  for (let i = 0; i < RUNS; i++) for (const [name, f] of Object.entries(cases)) times[name].push(await f())
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
  for (const [name, ms] of Object.entries(med)) log(`${name.padEnd(30)} ${ms.toFixed(1).padStart(7)} ms  (median of ${RUNS})`)
  const migrate = med['todo-db migrate up']
  const psql = med['psql -f (same Up SQL)']
  log(`ratio migrate up / psql -f: ${(migrate / psql).toFixed(2)}x (goal: within 2x)`)
  // Node's start-up and module loading are a fixed cost psql does not pay; on a schema this small
  // they are most of the time, so show the ratio of what remains too.
  const work = (migrate - med['todo-db --help (start-up)']) / (psql - med["psql -c 'select 1'"])
  log(`ratio without start-up (migrate - todo-db --help) / (psql -f - psql -c 'select 1'): ${work.toFixed(2)}x`)
  for (let i = 0; i < n; i++) cluster.psql(`drop database if exists bench_migrate_${process.pid}_${i}`)
}
