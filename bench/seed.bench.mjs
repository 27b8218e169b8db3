// seed vs psql \copy of the very same rows into the very same tables, in the same run:
// `todo-db seed --users 1000 --todos 300000` on an empty migrated database, then those rows
// exported with \copy and loaded back with psql \copy (one transaction, like seed) into the emptied
// tables. Both go over TCP to 127.0.0.1, as the CLI does. Also the seed into a todos table that
// already has a row (no deferred checks), a re-seed when rows of the app refer to seed todos (merged),
// and the peak RSS of a million todos.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { upSections } from '../test/helpers/migrations.js'

const run = promisify(execFile)
const TABLES = ['users', 'categories', 'todos']
const RUNS = 3
const RSS_LIMIT_MB = 200

/** The Up sections of migrations/*.sql, as test/helpers/schema.ts applies them (migrate up is not ours). */
function applySchema(cluster, db) {
  for (const sql of upSections()) cluster.psql(sql, db)
}

const empty = (cluster, db) => cluster.psql('truncate todos, categories, users', db)
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`

export default async function ({ cluster, bin, runCli, time, median, log }) {
  const db = 'bench_seed'
  cluster.psql(`create database ${db}`)
  applySchema(cluster, db)
  const url = cluster.url(db)
  const args = ['seed', '--database-url', url, '--users', '1000', '--todos', '300000', '--json']
  const dir = mkdtempSync(join(tmpdir(), 'todo-db-bench-seed-'))
  try {
    // Seed once to get the rows to export, then alternate the two loads so that load from other
    // processes on the machine falls on both alike.
    const seedOnce = async (prepare = () => {}) => {
      empty(cluster, db)
      prepare()
      const r = await runCli(args)
      if (r.code !== 0) throw new Error(`seed exited ${r.code}: ${r.stderr}`)
      return { ms: r.ms, report: JSON.parse(r.stdout) }
    }
    const first = await seedOnce()
    const file = (t) => join(dir, `${t}.copy`)
    for (const t of TABLES) cluster.psql(`\\copy (select * from ${t} order by id) to '${file(t)}'`, db)
    const psqlOnce = () => {
      empty(cluster, db)
      return time(() => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url,
        '-c', 'begin', ...TABLES.flatMap((t) => ['-c', `\\copy ${t} from '${file(t)}'`]), '-c', 'commit']))
    }
    // The same seed into a todos table that already holds a row of the app's: seed then cannot
    // defer index builds and foreign key checks (src/seed/bulkload.ts) and goes row by row, as psql.
    const seedIntoRowsOnce = async () => {
      const r = await seedOnce(() => cluster.psql(`with u as (insert into users (email, name) values ('app@example.org', 'App') returning id)
        insert into todos (user_id, title) select id, 'from the app' from u`, db))
      return r.ms
    }
    const seedMs = [first.ms]
    const psqlMs = []
    const ordinaryMs = []
    let report = first.report
    const rows = report.users + report.categories + report.todos
    for (let i = 0; i < RUNS; i++) {
      psqlMs.push(await psqlOnce())
      const loaded = cluster.psql('select (select count(*) from users) + (select count(*) from categories) + (select count(*) from todos)', db)
      if (Number(loaded) !== rows) throw new Error(`psql loaded ${loaded} rows, seed ${rows}`)
      ordinaryMs.push(await seedIntoRowsOnce())
      if (i === RUNS - 1) break
      const again = await seedOnce()
      seedMs.push(again.ms)
      report = again.report
    }

    // Rows of the app that refer to seed todos (an attachments table): the todos are staged and
    // merged instead of copied again (src/seed/apply.ts). A re-seed with the same flags, as a
    // nightly job does: every row compared, none written.
    cluster.psql(`create table attachments (todo_id uuid not null references todos (id) on delete cascade);
      insert into attachments select id from todos where title <> 'from the app' order by id limit 100`, db)
    const mergeMs = []
    try {
      for (let i = 0; i < RUNS; i++) {
        const r = await runCli(args)
        if (r.code !== 0) throw new Error(`seed over attachments exited ${r.code}: ${r.stderr}`)
        const { todos } = JSON.parse(r.stdout).changes
        if (todos.unchanged !== 300000) throw new Error(`seed over attachments changed todos: ${JSON.stringify(todos)}`)
        mergeMs.push(r.ms)
      }
      if (Number(cluster.psql('select count(*) from attachments', db)) !== 100) throw new Error('seed over attachments lost some')
    } finally {
      cluster.psql('drop table attachments', db)
    }

    const s = median(seedMs)
    const p = median(psqlMs)
    log(`rows: ${rows} (${report.users} users, ${report.categories} categories, ${report.todos} todos)`)
    log(`todo-db seed:  ${fmt(s)} median of ${RUNS} [${seedMs.map(fmt).join(', ')}] (in-transaction ${report.ms} ms, ${report.rowsPerSecond} rows/s)`)
    log(`psql \\copy:    ${fmt(p)} median of ${RUNS} [${psqlMs.map(fmt).join(', ')}]`)
    log(`ratio (psql / seed, goal >= 1.0, never below 0.5): ${(p / s).toFixed(2)}`)
    const o = median(ordinaryMs)
    log(`todo-db seed into a non-empty todos (row by row, as psql): ${fmt(o)} median of ${RUNS} [${ordinaryMs.map(fmt).join(', ')}], ratio ${(p / o).toFixed(2)}`)
    const m = median(mergeMs)
    log(`todo-db re-seed with app rows on seed todos (staged, merged, unchanged): ${fmt(m)} median of ${RUNS} [${mergeMs.map(fmt).join(', ')}], ratio ${(p / m).toFixed(2)}`)

    // A dev branch's default seed: a few dozen rows, where round trips and not throughput set the
    // time (Nagle's algorithm once cost this 40 ms per COPY). Same comparison, whole processes.
    const small = ['seed', '--database-url', url, '--json']
    empty(cluster, db)
    if ((await runCli(small)).code !== 0) throw new Error('default seed failed')
    for (const t of TABLES) cluster.psql(`\\copy (select * from ${t} order by id) to '${file(t)}'`, db)
    const smallSeed = []
    const smallPsql = []
    for (let i = 0; i < 5; i++) {
      smallPsql.push(await psqlOnce())
      empty(cluster, db)
      smallSeed.push((await runCli(small)).ms)
    }
    const ss = median(smallSeed)
    const sp = median(smallPsql)
    log(`default seed (5 users, 50 todos): todo-db ${ss.toFixed(0)} ms, psql \\copy ${sp.toFixed(0)} ms, ratio ${(sp / ss).toFixed(2)} (start-up included)`)

    // Memory: a million todos stream through; peak RSS must stay flat.
    empty(cluster, db)
    const { stderr } = await run('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, bin,
      'seed', '--database-url', url, '--users', '1000', '--todos', '1000000'], { maxBuffer: 1 << 20, env: { ...process.env, NO_COLOR: '1' } })
    const rssMb = Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1]) / 1024
    log(`peak RSS seeding 1,000,000 todos: ${rssMb.toFixed(0)} MB (limit ${RSS_LIMIT_MB} MB)`)
    for (const [what, ms] of [['seed', s], ['seed into a non-empty todos', o], ['re-seed with app rows on seed todos', m]]) {
      if (!(p / ms >= 0.5)) throw new Error(`${what} is more than twice as slow as psql \\copy (ratio ${(p / ms).toFixed(2)})`)
    }
    if (!(rssMb < RSS_LIMIT_MB)) throw new Error(`peak RSS ${rssMb.toFixed(0)} MB is over ${RSS_LIMIT_MB} MB`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
    cluster.psql(`drop database if exists ${db} with (force)`)
  }
}
