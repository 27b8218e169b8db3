// Migrate at scale and at the speed of the network (issues 13 and 14): 200 generated migrations
// (each: create a table, an index, add a column), applied by todo-db, by psql -f (each file in
// its own transaction) and by dbmate (the npm dev dependency), each on a fresh database, in turns,
// in the same run: once over a proxy that holds every chunk LATENCY ms in each direction (a link
// of 2 x LATENCY round trip, like CI to Neon), once directly on loopback. Then no-op `up` and
// `status` with the 200 applied, against dbmate's. The proxy counts the round trips each tool
// waited for (turns: the client sent after the server had answered), so the per-file cost is seen.
//
// Goals: over 10 ms, todo-db in at most 3 s, >= 3x faster than psql -f, >= 6x faster than dbmate;
// on loopback faster than dbmate and within 1.2x of psql -f; no-op up / status no slower than dbmate.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { spawn } from 'node:child_process'

const FILES = Number(process.env.BENCH_FILES ?? 200)
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 5)
const RUNS_NET = Number(process.env.BENCH_RUNS_NET ?? 3)
const RUNS_LOCAL = Number(process.env.BENCH_RUNS ?? 5)
// The Go binary itself (dev dependency @dbmate/linux-x64), else the npm wrapper that finds it.
const DBMATE = [resolve('node_modules/@dbmate/linux-x64/bin/dbmate'), resolve('node_modules/.bin/dbmate')].find(existsSync)

function run(cmd, args, env = {}) {
  return new Promise((res, rej) => {
    const started = process.hrtime.bigint()
    const child = spawn(cmd, args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', rej)
    child.on('close', (code) => (code === 0 ? res(Number(process.hrtime.bigint() - started) / 1e6) : rej(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out.slice(-2000)}`))))
  })
}

const up = (i) => `create table bench_t${i} (id bigint generated always as identity primary key, name text not null);
create index bench_t${i}_name_idx on bench_t${i} (name);
alter table bench_t${i} add column created_at timestamptz not null default now();`
const down = (i) => `drop table bench_t${i};`

/** The same 200 migrations in todo-db's (node-pg-migrate's) format, dbmate's, and one psql script. */
function generate() {
  const root = mkdtempSync(join(tmpdir(), 'todo-db-bench-scale-'))
  const ours = join(root, 'todo-db')
  const theirs = join(root, 'dbmate')
  mkdirSync(ours)
  mkdirSync(theirs)
  const script = []
  for (let i = 0; i < FILES; i++) {
    const stamp = 1800000000000 + i
    writeFileSync(join(ours, `${stamp}_bench_${i}.sql`), `-- Up Migration\n${up(i)}\n\n-- Down Migration\n${down(i)}\n`)
    writeFileSync(join(theirs, `${stamp}_bench_${i}.sql`), `-- migrate:up\n${up(i)}\n\n-- migrate:down\n${down(i)}\n`)
    script.push(`begin;\n${up(i)}\ncommit;`)
  }
  const psqlFile = join(root, 'all.sql')
  writeFileSync(psqlFile, script.join('\n'))
  return { ours, theirs, psqlFile }
}

const fmt = (ms) => `${ms.toFixed(0).padStart(6)} ms`

export default async function ({ cluster, bin, median, log, importTs }) {
  const { startProxy } = await importTs('test/helpers/proxy.ts')
  const { ours, theirs, psqlFile } = generate()
  const proxy = await startProxy({ host: cluster.host, port: cluster.port })
  let n = 0
  const made = []
  const fresh = () => {
    const db = `bench_scale_${process.pid}_${n++}`
    cluster.psql(`create database ${db}`)
    made.push(db)
    return db
  }
  const viaProxy = (db) => `postgres://postgres:${encodeURIComponent(cluster.password)}@127.0.0.1:${proxy.port}/${db}?sslmode=disable`
  const urlOf = (db, net) => (net ? viaProxy(db) : cluster.url(db))
  const todoDb = (args, url) => run(process.execPath, [bin, 'migrate', ...args, '--migrations-dir', ours], { DATABASE_URL: url })
  const dbmate = (args, url) => run(DBMATE, ['--no-dump-schema', '--migrations-dir', theirs, ...args], { DATABASE_URL: url })
  const tools = {
    'todo-db migrate up': (net) => todoDb(['up'], urlOf(fresh(), net)),
    'psql -f (a transaction per file)': (net) => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', psqlFile, urlOf(fresh(), net)]),
    'dbmate up': (net) => dbmate(['up'], urlOf(fresh(), net)),
  }

  /** Runs every tool `runs` times in turns; medians, and the round trips of each tool's last run. */
  async function compare(net, runs) {
    proxy.latencyMs = net ? LATENCY : 0
    const times = Object.fromEntries(Object.keys(tools).map((k) => [k, []]))
    const trips = {}
    for (let i = 0; i < runs; i++) {
      for (const [name, f] of Object.entries(tools)) {
        const [turns, z] = [proxy.turns, proxy.readyForQuery]
        times[name].push(await f(net))
        trips[name] = { turns: proxy.turns - turns, z: proxy.readyForQuery - z }
      }
    }
    return { med: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])), trips }
  }

  const verdict = (ok) => (ok ? 'OK' : 'MISSED')
  try {
    // Node's start-up alone, for the profile below.
    const starts = []
    for (let i = 0; i < RUNS_LOCAL; i++) starts.push(await run(process.execPath, [bin, '--help']))
    const startup = median(starts)
    // Over the slow link first: it is the case users live with.
    await tools['todo-db migrate up'](false) // warm the page cache
    const net = await compare(true, RUNS_NET)
    log(`${FILES} files over a ${2 * LATENCY} ms round trip (proxy, ${LATENCY} ms each way), median of ${RUNS_NET}:`)
    for (const [name, ms] of Object.entries(net.med)) {
      const t = net.trips[name]
      log(`  ${name.padEnd(34)} ${fmt(ms)}   round trips ${String(t.turns).padStart(4)} (${(t.turns / FILES).toFixed(2)} per file), ReadyForQuery ${t.z}`)
    }
    const [ourNet, psqlNet, dbmateNet] = Object.values(net.med)
    log(`  todo-db: ${(ourNet / 1000).toFixed(2)} s (goal <= 3 s) ${verdict(ourNet <= 3000)}; psql -f / todo-db ${(psqlNet / ourNet).toFixed(2)}x (goal >= 3x) ${verdict(psqlNet / ourNet >= 3)}; dbmate / todo-db ${(dbmateNet / ourNet).toFixed(2)}x (goal >= 6x) ${verdict(dbmateNet / ourNet >= 6)}`)

    const local = await compare(false, RUNS_LOCAL)
    log(`${FILES} files on loopback (no proxy), median of ${RUNS_LOCAL}:`)
    for (const [name, ms] of Object.entries(local.med)) log(`  ${name.padEnd(34)} ${fmt(ms)}`)
    const [ourLocal, psqlLocal, dbmateLocal] = Object.values(local.med)
    log(`  todo-db / psql -f ${(ourLocal / psqlLocal).toFixed(2)}x (goal <= 1.2x) ${verdict(ourLocal <= 1.2 * psqlLocal)}; todo-db / dbmate ${(ourLocal / dbmateLocal).toFixed(2)}x (goal < 1) ${verdict(ourLocal < dbmateLocal)}`)

    // The server's own time for the same SQL: one transaction, one process, no per-file cost.
    const floor = []
    for (let i = 0; i < RUNS_LOCAL; i++) floor.push(await run('psql', ['-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', '-f', psqlFile, cluster.url(fresh())]))
    log(`  (the server's DDL time, psql -1 -f of all of it: ${fmt(median(floor)).trim()})`)

    // Where todo-db's time goes over the link: waiting on round trips, the server's own work,
    // and the rest (Node's start-up and module loading, per-file commits and journal rows).
    const trips = net.trips['todo-db migrate up'].turns
    const rtt = 2 * LATENCY
    const server = median(floor)
    log(`profile of todo-db over ${rtt} ms: ${trips} round trips waited for (~${trips * rtt} ms on the link), the server's DDL ~${server.toFixed(0)} ms, the rest ~${Math.max(0, ourNet - trips * rtt - server).toFixed(0)} ms (Node start-up ~${startup.toFixed(0)} ms, commits and journal rows)`)
    log('  round trips that remain: 4 to connect (start-up, SCRAM x2, select 1), 1 first lock try + journal read, 1 to create the journal (fresh database), ~1 for all files pipelined (a window of 80 statements in flight), 1 to release the lock')

    // No-op runs against 200 applied, each tool on the database it filled itself.
    const applied = { ours: fresh(), theirs: fresh() }
    await todoDb(['up'], cluster.url(applied.ours))
    await dbmate(['up'], cluster.url(applied.theirs))
    const noop = {
      'todo-db migrate up (no-op)': (net) => todoDb(['up'], urlOf(applied.ours, net)),
      'dbmate up (no-op)': (net) => dbmate(['up'], urlOf(applied.theirs, net)),
      'todo-db migrate status': (net) => todoDb(['status'], urlOf(applied.ours, net)),
      'dbmate status': (net) => dbmate(['status'], urlOf(applied.theirs, net)),
    }
    for (const isNet of [false, true]) {
      proxy.latencyMs = isNet ? LATENCY : 0
      const times = Object.fromEntries(Object.keys(noop).map((k) => [k, []]))
      const trips = {}
      for (let i = 0; i < RUNS_LOCAL; i++) {
        for (const [name, f] of Object.entries(noop)) {
          const turns = proxy.turns
          times[name].push(await f(isNet))
          trips[name] = proxy.turns - turns
        }
      }
      const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
      log(`no-op with ${FILES} applied, ${isNet ? `over ${2 * LATENCY} ms` : 'on loopback'}, median of ${RUNS_LOCAL}:`)
      for (const [name, ms] of Object.entries(med)) log(`  ${name.padEnd(34)} ${fmt(ms)}${isNet ? `   round trips ${trips[name]}` : ''}`)
      const upRatio = med['todo-db migrate up (no-op)'] / med['dbmate up (no-op)']
      const statusRatio = med['todo-db migrate status'] / med['dbmate status']
      log(`  todo-db / dbmate: up ${upRatio.toFixed(2)}x, status ${statusRatio.toFixed(2)}x (goal <= 1) ${verdict(upRatio <= 1 && statusRatio <= 1)}`)
    }
  } finally {
    await proxy.close()
    for (const db of made) cluster.psql(`drop database if exists ${db}`)
  }
}
