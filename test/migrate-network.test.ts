// The network failing under migrate: no answer is exit 2, and so is a connection cut mid-migration, which leaves
// nothing of the migration behind (the server rolls back the session's transaction).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cluster, psql, urlAtPort } from './helpers/db.js'
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
})
