// The network failing under migrate: no answer is exit 2, and so is a connection cut mid-migration, which leaves
// nothing of the migration behind (the server rolls back the session's transaction).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cluster, observer, psql, urlAtPort } from './helpers/db.js'
import { tempDir } from './helpers/cli.js'
import { startProxy } from './helpers/proxy.js'
import { SCHEMA_NAMES, freshDb, journal, leftovers, migrate, migrationsDir, sessions, sleeping, sqlFile } from './helpers/migrate.js'
import { waitFor } from './helpers/wait.js'

const c = cluster()

/** A working folder whose config gives up connecting after 1 s (the default is 30 s for Neon wake-ups). */
function impatientCwd(): string {
  const cwd = tempDir()
  writeFileSync(join(cwd, '.todo-dbrc.json'), JSON.stringify({ timeouts: { connect: '1s' } }))
  return cwd
}


describe('migrate and the network', () => {
  it.each(['up', 'status'])('%s exits 2 when the server accepts TCP but never answers', async (cmd) => {
    const db = freshDb('hole')
    const hole = await startProxy(c, 'blackhole')
    try {
      const r = await migrate(db, [cmd], { cwd: impatientCwd(), env: { DATABASE_URL: urlAtPort(hole.port, db) } })
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/no answer from 127\.0\.0\.1/)
      expect(r.ms).toBeLessThan(8000)
    } finally {
      await hole.close()
    }
  })

  it('a connection cut during a migration: exit 2 (no response), and nothing of the migration remains', async () => {
    const db = freshDb('cut')
    const dir = migrationsDir({ '1764000000003_slow.sql': sqlFile('create table slow (id int);\nselect pg_sleep(2);', 'drop table slow;') })
    const proxy = await startProxy(c, 'forward')
    try {
      const run = migrate(db, ['up'], { dir, env: { DATABASE_URL: urlAtPort(proxy.port, db) } })
      await waitFor(() => sleeping(db) === 1, { what: 'the migration to sleep in pg_sleep(2)' })
      proxy.cut()
      const r = await run
      expect(r.code).toBe(2)
      // The statement is named when its answer said so; answers still in flight when the link
      // went are lost, and then the journal, read back on a new connection, names the file.
      expect(r.stderr).toMatch(/migration 1764000000003_slow \(up\) failed at .*1764000000003_slow\.sql(:3:1 \(in "select pg_sleep\(2\)"\))?: the connection to 127\.0\.0\.1:\d+ was lost/)
      expect(r.stderr).not.toMatch(/^\s+at /m)
      expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1)
    } finally {
      await proxy.close()
    }
    // The backend notices the lost client when pg_sleep ends, then rolls back and lets go.
    await waitFor(() => sessions(db) === 0, { what: 'every session on the database to end' })
    expect(psql(`select to_regclass('public.slow') is null`, db)).toBe('t')
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
    // and the next run applies it
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, '1764000000003_slow'])
  })

  it.each([[[]], [['--single-transaction']]])('a connection lost while the server still works through what was sent (its COMMIT among it): the server session is ended first, so what is said is what stays %j', async (flags: string[]) => {
    // The client's flow is dropped while the server's stays up (a middlebox, a pooler): the
    // backend, waiting for a lock, still has the file's statements, journal row and COMMIT to run.
    const db = freshDb('orphan')
    psql('create table gate (id int)', db)
    const name = '1764000000003_gated'
    const dir = migrationsDir({ [`${name}.sql`]: sqlFile('create table gated (id int);\nlock table gate;\ninsert into gated values (1);', 'drop table gated;') })
    const holder = observer(db)
    const proxy = await startProxy(c, 'forward')
    const busy = () => Number(psql(`select count(*) from pg_stat_activity where datname = '${db}' and application_name = 'todo-db migrate' and state <> 'idle'`))
    try {
      const conn = await holder.reserve()
      await conn`begin`
      await conn`lock table gate`
      const run = migrate(db, ['up', ...flags], { dir, env: { DATABASE_URL: urlAtPort(proxy.port, db) } })
      await waitFor(() => Number(psql(`select count(*) from pg_stat_activity where datname = '${db}' and wait_event_type = 'Lock'`)) === 1,
        { what: 'the migration to wait for the lock on gate' })
      proxy.cutClients()
      const r = await run
      // Let go of the lock: a backend still alive would now run the rest and commit.
      await conn`commit`
      conn.release()
      await waitFor(() => busy() === 0, { what: 'no migrate session left running' })
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toMatch(/rolls the (migration|run) back|nothing of it remains/)
      expect(r.stderr).not.toMatch(/may or may not/)
      expect(psql(`select to_regclass('public.gated') is null`, db)).toBe('t')
      // One transaction for the run takes the schema's files back too.
      expect(journal(db).map((j) => j.name)).toEqual(flags.length ? [] : SCHEMA_NAMES)
    } finally {
      await proxy.close()
      await holder.end()
    }
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })
})
