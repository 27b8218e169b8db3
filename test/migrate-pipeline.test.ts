// migrate sends the files of a run pipelined (src/migrate/pipeline.ts): many files per round trip,
// each still in its own transaction. Through a proxy that delays each direction by 5 ms, a
// failure in file k must leave the files before it committed and recorded, file k and the ones
// after it absent, and the message true; and the run must take few round trips, not some per file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cluster, psql, urlAtPort } from './helpers/db.js'
import { startProxy, type FaultProxy } from './helpers/proxy.js'
import { freshDb, journal, leftovers, migrate, migrationsDir, sqlFile } from './helpers/migrate.js'

const c = cluster()
let proxy: FaultProxy
beforeAll(async () => {
  proxy = await startProxy(c)
  proxy.latencyMs = 5
})
afterAll(() => proxy?.close())

const NAMES = ['1800000000001_one', '1800000000002_two', '1800000000003_three', '1800000000004_four', '1800000000005_five']

/** Five files; the third's up is `third`. */
function files(third: string): string {
  const table = (i: number) => sqlFile(`create table pipe_t${i} (id int primary key);\ninsert into pipe_t${i} values (${i});`, `drop table pipe_t${i};`)
  return migrationsDir({
    [`${NAMES[0]}.sql`]: table(1),
    [`${NAMES[1]}.sql`]: table(2),
    [`${NAMES[2]}.sql`]: sqlFile(third, 'drop table if exists pipe_t3; drop table if exists pipe_c3;'),
    [`${NAMES[3]}.sql`]: table(4),
    [`${NAMES[4]}.sql`]: table(5),
  }, false)
}

const tables = (db: string) => psql(`select coalesce(string_agg(relname, ',' order by relname), '') from pg_class where relname like 'pipe\\_%' and relkind = 'r'`, db)

/** migrate through the delay proxy; with the round trips it waited for. */
async function viaProxy(db: string, args: string[], dir: string) {
  const before = proxy.turns
  const r = await migrate(db, args, { dir, env: { DATABASE_URL: urlAtPort(proxy.port, db) } })
  return { ...r, turns: proxy.turns - before }
}

describe('migrate up, pipelined, through a 10 ms round trip', () => {
  it('applies five files in a few round trips, not several per file', async () => {
    const db = freshDb('pipe_ok')
    const r = await viaProxy(db, ['up'], files('create table pipe_t3 (id int primary key);'))
    expect(r.code).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual(NAMES)
    expect(journal(db).every((j) => j.checksum && /^[0-9a-f]{64}$/.test(j.checksum))).toBe(true)
    for (const n of NAMES) expect(r.stdout).toContain(`applied ${n}`)
    // Connecting (3), the lock and the journal (about 4), the five files, releasing the lock:
    // one file at a time took 4 round trips per file (about 28 in all).
    expect(r.turns).toBeLessThanOrEqual(12)
  })

  it('a failure in file 3 without a position: files 1-2 committed and recorded, 3-5 absent, the statement named', async () => {
    const db = freshDb('pipe_fail')
    const r = await viaProxy(db, ['up'], files('create table pipe_t3 (id int primary key);\ninsert into pipe_t3 values (1 / 0);'))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/migration 1800000000003_three \(up\) failed at \S*1800000000003_three\.sql:3:1 \(in "insert into pipe_t3 values \(1 \/ 0\)"\): division by zero \[22012\]; it was rolled back, nothing of it remains/)
    expect(r.stdout + r.stderr).toMatch(/applied 1800000000001_one before the failure/)
    expect(r.stdout + r.stderr).toMatch(/applied 1800000000002_two before the failure/)
    expect(r.stdout + r.stderr).not.toMatch(/applied 1800000000004_four/)
    expect(journal(db).map((j) => j.name)).toEqual(NAMES.slice(0, 2))
    expect(tables(db)).toBe('pipe_t1,pipe_t2')
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('a failure with a position points at its line and column in file 3', async () => {
    const db = freshDb('pipe_pos')
    const r = await viaProxy(db, ['up'], files('create table pipe_t3 (id int primary key);\nselect nosuchcolumn from pipe_t3;'))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/migration 1800000000003_three \(up\) failed at \S*1800000000003_three\.sql:3:8: column "nosuchcolumn" does not exist \[42703\]/)
    expect(journal(db).map((j) => j.name)).toEqual(NAMES.slice(0, 2))
    expect(tables(db)).toBe('pipe_t1,pipe_t2')
  })

  it('a failure at the end of file 3 (a deferred constraint) stops the run there: file 4 never runs', async () => {
    const db = freshDb('pipe_deferred')
    const r = await viaProxy(db, ['up'], files(
      'create table pipe_c3 (id int references pipe_t1 deferrable initially deferred);\ninsert into pipe_c3 values (42);'))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/migration 1800000000003_three \(up\) failed at its COMMIT \(\S*1800000000003_three\.sql\): .*foreign key constraint "pipe_c3_id_fkey" \[23503\]/)
    expect(journal(db).map((j) => j.name)).toEqual(NAMES.slice(0, 2))
    expect(tables(db)).toBe('pipe_t1,pipe_t2')
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('--single-transaction: a failure in file 3 takes files 1-2 back too', async () => {
    const db = freshDb('pipe_single')
    const r = await viaProxy(db, ['up', '--single-transaction'], files('insert into pipe_t1 values (1);'))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/duplicate key value .*\[23505\].*the whole run was rolled back, the database is as before/)
    expect(journal(db)).toEqual([])
    expect(tables(db)).toBe('')
  })

  it('down, pipelined: a failure reverting file 4 leaves file 5 reverted, 1-4 applied', async () => {
    const db = freshDb('pipe_down')
    const dir = files('create table pipe_t3 (id int primary key);')
    expect((await viaProxy(db, ['up'], dir)).code).toBe(0)
    psql('create table pipe_dep (id int references pipe_t4)', db) // makes "drop table pipe_t4" fail
    const r = await viaProxy(db, ['down', '3', '--yes'], dir)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/migration 1800000000004_four \(down\) failed at \S*1800000000004_four\.sql:6:1 \(in "drop table pipe_t4"\): cannot drop table pipe_t4/)
    expect(r.stdout + r.stderr).toMatch(/reverted 1800000000005_five before the failure/)
    expect(journal(db).map((j) => j.name)).toEqual(NAMES.slice(0, 4))
    expect(tables(db)).toBe('pipe_dep,pipe_t1,pipe_t2,pipe_t3,pipe_t4')
  })
})
