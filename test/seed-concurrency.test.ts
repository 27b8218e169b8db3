// Concurrent seed runs on one database, as real CLI processes: they serialise on an advisory lock
// (never a deadlock, never a duplicate key), directly and through a transaction-mode PgBouncer,
// and a seed that waits longer than timeouts.lock exits 1 with one clear line.
import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cluster, createDatabase, dbUrl, dropDatabase, psql } from './helpers/db.js'
import { runCli, tempDir } from './helpers/cli.js'
import { startPgBouncer, type PgBouncer } from './helpers/pgbouncer.js'
import { applySchema } from './helpers/schema.js'

const created: string[] = []
let bouncer: PgBouncer

function migratedDatabase(prefix: string): string {
  const db = createDatabase(prefix)
  created.push(db)
  applySchema(db)
  return db
}

const count = (db: string, sql: string) => Number(psql(sql, db))
const seed = (url: string, args: string[], cwd?: string, onSpawn?: (c: ChildProcess) => void) =>
  runCli(['seed', '--database-url', url, ...args], { ...(cwd ? { cwd } : {}), ...(onSpawn ? { onSpawn } : {}) })

/** Waits until a seed session is past its lock, i.e. loading rows (a COPY is running). */
async function whenSeedCopies(db: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (count('postgres', `select count(*) from pg_stat_activity where datname = '${db}' and query ilike 'copy %' and state = 'active'`) > 0) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error('no seed reached a COPY')
}

/** Waits until a session of this database waits for a lock (the later seed, behind the earlier). */
async function whenOneWaits(db: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (count('postgres', `select count(*) from pg_stat_activity where datname = '${db}' and wait_event_type = 'Lock'`) > 0) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error('no seed waited for a lock')
}

beforeAll(async () => {
  bouncer = await startPgBouncer(cluster())
})
afterAll(async () => {
  await bouncer?.stop()
  for (const db of created) dropDatabase(db)
})

describe('concurrent seeds on one database', () => {
  const rows = (seedNo: number) => ['--seed', String(seedNo), '--users', '50', '--categories', '3', '--todos', '30000']

  it('two different seeds into an empty todos both succeed, one after the other', async () => {
    const db = migratedDatabase('seed_conc_diff')
    // started together, as in the report: both find todos empty
    const [a, b] = await Promise.all([seed(dbUrl(db), rows(1)), seed(dbUrl(db), rows(2))])
    expect(a.stderr + b.stderr).not.toMatch(/deadlock|duplicate key/)
    expect([a.code, b.code]).toEqual([0, 0])
    expect(count(db, 'select count(*) from todos')).toBe(60_000)
    expect(count(db, 'select count(*) from users')).toBe(100)
  })

  it('three runs of the same seed all succeed and leave one copy of its rows', async () => {
    const db = migratedDatabase('seed_conc_same')
    const runs = [seed(dbUrl(db), rows(3))]
    await whenSeedCopies(db)
    runs.push(seed(dbUrl(db), rows(3)), seed(dbUrl(db), rows(3)))
    await whenOneWaits(db) // the later ones really ran while the first held the database
    const results = await Promise.all(runs)
    for (const r of results) {
      expect(r.stderr).not.toMatch(/todos_pkey|duplicate key|deadlock/)
      expect(r.code).toBe(0)
    }
    expect(count(db, 'select count(*) from todos')).toBe(30_000)
    expect(count(db, 'select count(*) from users')).toBe(50)
  })

  it('serialise through a transaction-mode PgBouncer too', async () => {
    const db = migratedDatabase('seed_conc_pool')
    const url = bouncer.url(db)
    const [a, b] = await Promise.all([seed(url, rows(4)), seed(url, rows(5))])
    expect(a.stderr + b.stderr).not.toMatch(/deadlock|duplicate key/)
    expect([a.code, b.code]).toEqual([0, 0])
    expect(count(db, 'select count(*) from todos')).toBe(60_000)
  })

  it('a seed that waits longer than timeouts.lock exits 1 with one line, changing nothing', async () => {
    const db = migratedDatabase('seed_conc_busy')
    const cwd = tempDir()
    writeFileSync(join(cwd, '.todo-dbrc.json'), JSON.stringify({ timeouts: { lock: '200ms' } }))
    const first = seed(dbUrl(db), [...rows(6), '--todos', '200000'])
    await whenSeedCopies(db)
    const late = await seed(dbUrl(db), rows(7), cwd)
    expect(late.code).toBe(1)
    expect(late.stderr).toMatch(/another todo-db seed is running on this database/)
    expect(late.stderr.trim().split('\n')).toHaveLength(1)
    expect((await first).code).toBe(0)
    expect(count(db, `select count(*) from users where email like '%@seed7.example.com'`)).toBe(0)
  })

  it('SIGINT while waiting for the other seed exits 130 at once, and the other one goes on', async () => {
    const db = migratedDatabase('seed_conc_sigint')
    const first = seed(dbUrl(db), [...rows(8), '--todos', '200000'])
    await whenSeedCopies(db)
    let child: ChildProcess | undefined
    const waiting = seed(dbUrl(db), rows(9), undefined, (c) => (child = c))
    await whenOneWaits(db)
    const signalled = Date.now()
    child!.kill('SIGINT')
    const r = await waiting
    expect(r.code).toBe(130)
    expect(Date.now() - signalled).toBeLessThan(3000)
    expect(r.stderr).toMatch(/interrupted: the seed was cancelled and rolled back/)
    expect((await first).code).toBe(0)
    expect(count(db, `select count(*) from users where email like '%@seed9.example.com'`)).toBe(0)
    expect(count(db, 'select count(*) from todos')).toBe(200_000)
  })
})
