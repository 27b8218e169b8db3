// Concurrent runs, locks and interruptions: the database must end as it was or fully migrated,
// never in between, and no lock or transaction may be left behind.
import { describe, expect, it } from 'vitest'
import { observer, psql } from './helpers/db.js'
import { SCHEMA_NAMES, freshDb, journal, leftovers, migrate, migrationsDir, sessions, sqlFile, waitFor } from './migrate-fixtures.js'

const MIGRATION_LOCK_ID = '7241865325823964'

/** A session of our own holding something until release() is called. */
async function holder(db: string, ...statements: string[]) {
  const sql = observer(db)
  const conn = await sql.reserve()
  for (const s of statements) await conn.unsafe(s)
  const [{ pid }] = await conn`select pg_backend_pid() as pid`
  return {
    pid: pid as number,
    async release() {
      await conn.unsafe('rollback').catch(() => {})
      await conn.unsafe(`select pg_advisory_unlock_all()`)
      conn.release()
      await sql.end()
    },
  }
}


describe('concurrency', () => {
  it('six migrate up started at once on a fresh database all exit 0, and each migration is applied once', async () => {
    const db = freshDb('six')
    const runs = await Promise.all(Array.from({ length: 6 }, () => migrate(db, ['up'])))
    const outputs = runs.map((r, i) => `run ${i}: exit ${r.code}\n${r.stdout}${r.stderr}`).join('\n')
    expect(runs.map((r) => r.code), outputs).toEqual([0, 0, 0, 0, 0, 0])
    expect(journal(db).map((j) => j.name), outputs).toEqual(SCHEMA_NAMES)
    const appliedLines = runs.flatMap((r) => r.stdout.split('\n').filter((l) => l.startsWith('applied ')).map((l) => l.split(' ')[1]))
    expect(appliedLines.sort(), outputs).toEqual([...SCHEMA_NAMES].sort())
    // Locks of a closed session go when its backend exits, a moment after the client does.
    await waitFor(() => leftovers(db).advisoryLocks === 0 && leftovers(db).openTransactions === 0, 5000)
  })

  it('a run waits for another holding the migration lock, then proceeds', async () => {
    const db = freshDb('wait')
    const other = await holder(db, `select pg_advisory_lock(${MIGRATION_LOCK_ID})`)
    const run = migrate(db, ['up', '--lock-timeout', '20s'])
    await new Promise((r) => setTimeout(r, 1500))
    expect(journal(db)).toEqual([])
    await other.release()
    const r = await run
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(new RegExp(`waiting for the migration lock \\(held by pid ${other.pid}`))
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
  })

  it('gives up on the migration lock after --lock-timeout, naming the holder (exit 1)', async () => {
    const db = freshDb('locked')
    const other = await holder(db, `select pg_advisory_lock(${MIGRATION_LOCK_ID})`)
    try {
      const r = await migrate(db, ['up', '--lock-timeout', '700ms'])
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(new RegExp(`another migration run \\(pid ${other.pid}.*\\) held the migration lock for more than 700 ms`))
      expect(r.ms).toBeLessThan(8000)
      expect(journal(db)).toEqual([])
    } finally {
      await other.release()
    }
  })
  it('SIGTERM while waiting for the migration lock stops at once and changes nothing', async () => {
    const db = freshDb('waitsig')
    const other = await holder(db, `select pg_advisory_lock(${MIGRATION_LOCK_ID})`)
    try {
      let child: { kill(s: NodeJS.Signals): boolean } | undefined
      const run = migrate(db, ['up', '--lock-timeout', '30s'], { onSpawn: (c) => (child = c) })
      await waitFor(() => sessions(db, 'pg_try_advisory_lock') >= 1)
      const sent = Date.now()
      child!.kill('SIGTERM')
      const r = await run
      expect(r.code).toBe(143)
      expect(Date.now() - sent).toBeLessThan(3000)
      expect(r.stderr).toMatch(/interrupted: nothing was changed/)
      expect(journal(db)).toEqual([])
    } finally {
      await other.release()
    }
  })
})

describe('lock_timeout', () => {
  it('a migration waiting on a table lock fails after --lock-timeout with the file named, and is rolled back', async () => {
    const db = freshDb('tablelock')
    const dir = migrationsDir({ '1764000000003_nickname.sql': sqlFile('alter table users add column nickname text;', 'alter table users drop column nickname;') })
    expect((await migrate(db, ['up', String(SCHEMA_NAMES.length - 1)], { dir })).code).toBe(0)
    expect((await migrate(db, ['up', '1'], { dir })).code).toBe(0)
    const app = await holder(db, 'begin', 'lock table users in access share mode', 'select count(*) from users')
    try {
      const r = await migrate(db, ['up', '--lock-timeout', '500ms'], { dir })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/migration 1764000000003_nickname \(up\) failed at .*1764000000003_nickname\.sql:2:1 \(in "alter table users add column nickname text"\): canceling statement due to lock timeout \[55P03\]/)
      expect(r.stderr).toMatch(/raise timeouts\.lock/)
      expect(r.ms).toBeLessThan(8000)
    } finally {
      await app.release()
    }
    expect(psql(`select count(*) from information_schema.columns where table_name = 'users' and column_name = 'nickname'`, db)).toBe('0')
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })
})

describe('interrupted', () => {
  it.each([['SIGTERM', 143], ['SIGINT', 130]] as const)('%s during a migration cancels it, rolls back, releases the lock (exit %i)', async (signal, exitCode) => {
    const db = freshDb('signal')
    const dir = migrationsDir({ '1764000000003_slow.sql': sqlFile('create table slow (id int);\nselect pg_sleep(30);', 'drop table slow;') })
    let child: { kill(s: NodeJS.Signals): boolean } | undefined
    const run = migrate(db, ['up'], { dir, onSpawn: (c) => (child = c) })
    await waitFor(() => sessions(db, 'pg_sleep(30)') === 1)
    child!.kill(signal)
    const r = await run
    expect(r.code).toBe(exitCode)
    expect(r.ms).toBeLessThan(15_000)
    expect(r.stderr).toMatch(/interrupted: 1764000000003_slow was rolled back/)
    expect(psql(`select to_regclass('public.slow') is null`, db)).toBe('t')
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
    await waitFor(() => leftovers(db).advisoryLocks === 0 && leftovers(db).openTransactions === 0)
    expect(sessions(db, 'pg_sleep')).toBe(0)
  })

  it('SIGINT with --single-transaction takes back every file of the run (exit 130)', async () => {
    const db = freshDb('signal_single')
    const dir = migrationsDir({ '1764000000003_slow.sql': sqlFile('create table slow (id int);\nselect pg_sleep(30);', 'drop table slow;') })
    let child: { kill(s: NodeJS.Signals): boolean } | undefined
    const run = migrate(db, ['up', '--single-transaction'], { dir, onSpawn: (c) => (child = c) })
    await waitFor(() => sessions(db, 'pg_sleep(30)') === 1)
    child!.kill('SIGINT')
    const r = await run
    expect(r.code).toBe(130)
    expect(r.stderr).toMatch(/interrupted: the run was rolled back; the database is as before/)
    expect(journal(db)).toEqual([])
    expect(psql(`select count(*) from pg_tables where schemaname = 'public' and tablename <> 'pgmigrations'`, db)).toBe('0')
    await waitFor(() => leftovers(db).advisoryLocks === 0 && leftovers(db).openTransactions === 0)
  })
})
