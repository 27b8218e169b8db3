// A link that freezes mid-run (issue 9, item 6): the proxy stops forwarding in both directions and
// keeps every socket open, so no error ever reaches either end. migrate and seed must notice within
// timeouts.stall (+ one probe), exit 2 with a clear line, and leave the database as it was; a
// signal during the freeze is answered at once with its message.
import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cluster, observer, psql, urlAtPort } from './helpers/db.js'
import { runCli, tempDir, type CliResult } from './helpers/cli.js'
import { startProxy } from './helpers/proxy.js'
import { applySchema } from './helpers/schema.js'
import { SCHEMA_NAMES, freshDb, journal, leftovers, migrate, migrationsDir, sqlFile } from './helpers/migrate.js'
import { waitFor } from './helpers/wait.js'

const c = cluster()
const STALL = { TODO_DB_STALL_TIMEOUT: '2s' }
const GATE = 4242
// The migration waits at the gate (an advisory lock the test holds) for as long as the test needs:
// a pg_sleep(1) could end before a loaded machine even looked.
const slowMigration = () => migrationsDir({ '1764000000003_slow.sql': sqlFile(`create table slow (id int);\nselect pg_advisory_xact_lock_shared(${GATE});`, 'drop table slow;') })

/** Holds GATE until open(): a statement that takes it waits, in pg_stat_activity as wait_event 'advisory'. */
async function gate(db: string) {
  const sql = observer(db)
  const conn = await sql.reserve()
  await conn`select pg_advisory_lock(${GATE})`
  let opened = false
  return {
    waiting: (app: string) => Number(psql(`select count(*) from pg_stat_activity where datname = '${db}' and application_name = '${app}' and wait_event = 'advisory'`)) === 1,
    async open() {
      if (opened) return
      opened = true
      await conn`select pg_advisory_unlock(${GATE})`
      conn.release()
      await sql.end()
    },
  }
}
const backends = (db: string, app: string) =>
  Number(psql(`select count(*) from pg_stat_activity where datname = '${db}' and application_name = '${app}'`))
const todos = (db: string) => psql(`select count(*) || ':' || coalesce(md5(string_agg(id::text, ',' order by id)), '') from todos`, db)

// A run is pipelined (src/migrate/pipeline.ts): every statement, journal row and COMMIT of every
// file is on its way before the first answer comes back, so a link that freezes while the server
// waits in the last file does not stop the server: it finishes the run. What the tests hold
// todo-db to is the truth about that: the journal read back when it can be, "may or may not"
// when it cannot, and a database where every file is whole (table and journal row together).
const consistent = (db: string) =>
  expect(psql(`select to_regclass('public.slow') is not null`, db)).toBe(journal(db).some((j) => j.name === '1764000000003_slow') ? 't' : 'f')

describe('a frozen link during migrate up', () => {
  it('the whole proxy freezes (no new connection either): exit 2, one line, and it says the outcome is unknown', async () => {
    const db = freshDb('stall_up')
    const dir = slowMigration()
    const proxy = await startProxy(c, 'forward')
    const g = await gate(db)
    try {
      const run = migrate(db, ['up'], { dir, env: { DATABASE_URL: urlAtPort(proxy.port, db), ...STALL } })
      await waitFor(() => g.waiting('todo-db migrate'), { what: 'the migration to wait at the gate' })
      proxy.stall({ newConnections: 'stall' })
      await g.open()
      const r = await run
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toMatch(/no progress on the connection to 127\.0\.0\.1:\d+ for 2 s, and a new connection got no answer either/)
      expect(r.stderr).toMatch(/may or may not have been committed: see todo-db migrate status before running it again/)
      expect(r.stderr).not.toMatch(/nothing of it remains/)
      expect(r.stderr.split('\n').filter((l) => l.startsWith('error:')), r.stderr).toHaveLength(1)
    } finally {
      await g.open()
      await proxy.close()
    }
    await waitFor(() => backends(db, 'todo-db migrate') === 0, { what: 'the todo-db migrate sessions to end' })
    consistent(db)
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('only the open connection freezes: exit 2, and the journal read back says every file was applied', async () => {
    const db = freshDb('stall_up')
    const dir = slowMigration()
    const proxy = await startProxy(c, 'forward')
    const g = await gate(db)
    try {
      const run = migrate(db, ['up'], { dir, env: { DATABASE_URL: urlAtPort(proxy.port, db), ...STALL } })
      await waitFor(() => g.waiting('todo-db migrate'), { what: 'the migration to wait at the gate' })
      proxy.stall({ newConnections: 'forward' })
      await g.open()
      const r = await run
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toMatch(/no progress on the connection to 127\.0\.0\.1:\d+ for 2 s while the server waited for us/)
      expect(r.stderr).toMatch(new RegExp(`every migration of this run was applied \\(${SCHEMA_NAMES.length + 1}; the migrations table records each\\) before the connection went, so nothing was rolled back`))
      expect(r.stderr.split('\n').filter((l) => l.startsWith('error:')), r.stderr).toHaveLength(1)
      // The backend goes (it was ended), and the lock with it.
      await waitFor(() => backends(db, 'todo-db migrate') === 0, { what: 'the todo-db migrate sessions to end' })
    } finally {
      await g.open()
      await proxy.close()
    }
    expect(psql(`select to_regclass('public.slow') is not null`, db)).toBe('t')
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, '1764000000003_slow'])
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('a long statement that sends nothing is not a stall: the probe finds it running', async () => {
    const db = freshDb('stall_busy')
    const dir = migrationsDir({ '1764000000003_long.sql': sqlFile('create table long_one (id int);\nselect pg_sleep(4);', 'drop table long_one;') })
    const r = await migrate(db, ['up', '--verbose'], { dir, env: { ...STALL } })
    expect(r.code, r.stderr).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, '1764000000003_long'])
  })

  it.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('%s during the freeze is answered with its message (exit %i)', async (signal, code) => {
    const db = freshDb('stall_sig')
    const dir = slowMigration()
    const proxy = await startProxy(c, 'forward')
    const g = await gate(db)
    try {
      let child: ChildProcess | undefined
      const run = migrate(db, ['up'], { dir, env: { DATABASE_URL: urlAtPort(proxy.port, db) }, onSpawn: (ch) => (child = ch) })
      await waitFor(() => g.waiting('todo-db migrate'), { what: 'the migration to wait at the gate' })
      proxy.stall()
      await g.open()
      const signalled = Date.now()
      child!.kill(signal)
      const r = await run
      expect(r.code, r.stderr).toBe(code)
      // No answer can come back and no new connection gets through: the honest outcome is unknown.
      expect(r.stderr).toMatch(/interrupted: the connection went before the server's answers came back: .* may or may not have been committed; see todo-db migrate status/)
      expect(Date.now() - signalled).toBeLessThan(5000) // not the 10 s backstop
    } finally {
      await g.open()
      await proxy.close()
    }
    await waitFor(() => backends(db, 'todo-db migrate') === 0, { what: 'the todo-db migrate sessions to end' })
    consistent(db)
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })
})

describe('a frozen link during seed', () => {
  const big = ['--seed', '99', '--users', '50', '--todos', '250000', '--reset', '--yes']
  // The COPY waits at the gate in its first row (a trigger takes GATE): a fast seed's COPY could
  // be over before a loaded machine looked.
  async function seededDb(): Promise<{ db: string; before: string; g: Awaited<ReturnType<typeof gate>> }> {
    const db = freshDb('stall_seed')
    applySchema(db)
    const first = await runCli(['seed', '--seed', '5'], { env: { DATABASE_URL: urlAtPort(c.port, db) } })
    expect(first.code, first.stderr).toBe(0)
    psql([`create function at_gate() returns trigger language plpgsql as $$ begin perform pg_advisory_xact_lock_shared(${GATE}); return new; end $$`,
      'create trigger at_gate before insert on todos for each row execute function at_gate()'], db)
    return { db, before: todos(db), g: await gate(db) }
  }
  const copying = (db: string) =>
    Number(psql(`select count(*) from pg_stat_activity where datname = '${db}' and application_name = 'todo-db seed' and query ilike 'copy todos%' and wait_event = 'advisory'`)) > 0

  it('exit 2 within the stall timeout, nothing changed, the backend gone', async () => {
    const { db, before, g } = await seededDb()
    const proxy = await startProxy(c, 'forward')
    try {
      const run = runCli(['seed', ...big], { env: { DATABASE_URL: urlAtPort(proxy.port, db), ...STALL } })
      await waitFor(() => copying(db), { what: 'the seed\'s COPY to wait at the gate', timeoutMs: 30_000 })
      proxy.stall()
      await g.open()
      const r = await run
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toMatch(/no progress on the connection to 127\.0\.0\.1:\d+ for 2 s, and a new connection got no answer either: the connection was lost during the seed; the server rolls the transaction back, nothing was changed/)
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1)
      await waitFor(() => backends(db, 'todo-db seed') === 0, { what: 'the todo-db seed sessions to end' })
    } finally {
      await g.open()
      await proxy.close()
    }
    expect(todos(db)).toBe(before)
  })

  it('SIGINT during the freeze: exit 130 with its message, nothing changed', async () => {
    const { db, before, g } = await seededDb()
    const proxy = await startProxy(c, 'forward')
    try {
      let child: ChildProcess | undefined
      const run: Promise<CliResult> = runCli(['seed', ...big], { env: { DATABASE_URL: urlAtPort(proxy.port, db) }, onSpawn: (ch) => (child = ch) })
      await waitFor(() => copying(db), { what: 'the seed\'s COPY to wait at the gate', timeoutMs: 30_000 })
      proxy.stall()
      await g.open()
      const signalled = Date.now()
      child!.kill('SIGINT')
      const r = await run
      expect(r.code, r.stderr + r.stdout).toBe(130)
      expect(r.stderr).toMatch(/interrupted: the seed was cancelled and rolled back/)
      expect(Date.now() - signalled).toBeLessThan(5000) // not the 10 s backstop
      await waitFor(() => backends(db, 'todo-db seed') === 0, { what: 'the todo-db seed sessions to end' })
    } finally {
      await g.open()
      await proxy.close()
    }
    expect(todos(db)).toBe(before)
  })
})

describe('timeouts.stall', () => {
  it('is read from the config file and refused when it is not a duration', async () => {
    const cwd = tempDir()
    writeFileSync(join(cwd, '.todo-dbrc.json'), JSON.stringify({ timeouts: { stall: 'soon' } }))
    const db = freshDb('stall_cfg')
    const r = await runCli(['migrate', 'status', '--migrations-dir', migrationsDir()], { cwd, env: { DATABASE_URL: urlAtPort(c.port, db) } })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/timeouts\.stall: "soon" is not a duration/)
  })
})
