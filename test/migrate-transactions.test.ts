// What a migration may do to the transaction it runs in, and whether every message about what was
// rolled back is true: each is checked against the catalog (pg_class) and the journal's rows.
import { describe, expect, it } from 'vitest'
import { psql } from './helpers/db.js'
import { SCHEMA_NAMES, freshDb, journal, leftovers, migrate, migrationsDir, sqlFile } from './migrate-fixtures.js'

const A = '1764000000003_a'
const B = '1764000000004_b'
/** The relations of "public" among `names` that exist. */
const existing = (db: string, ...names: string[]) =>
  psql(`select coalesce(string_agg(relname, ',' order by relname), '') from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where nspname = 'public' and relname in (${names.map((n) => `'${n}'`).join(', ')})`, db).split(',').filter(Boolean)
const errorLines = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('error:'))

describe('transaction control inside a migration', () => {
  it('BEGIN ... COMMIT in a file is refused (exit 3, file, line, statement) before any pending file runs', async () => {
    const db = freshDb()
    const dir = migrationsDir({
      [`${A}.sql`]: sqlFile('create table a1 (id int);'),
      [`${B}.sql`]: sqlFile('BEGIN; create table h1 (id int); COMMIT;\ncreate table h2 (id int);\nselect 1/0;'),
    })
    const r = await migrate(db, ['up'], { dir })
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(
      new RegExp(`^error: .*${B}\\.sql:2: "BEGIN" would end or split the transaction ${B} runs in; nothing was run \\(.*todo-db:no-transaction`))])
    expect(existing(db, 'users', 'a1', 'h1', 'h2')).toEqual([])
    expect(journal(db)).toEqual([])
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
    // --dry-run says the same
    expect((await migrate(db, ['up', '--dry-run'], { dir })).stderr).toMatch(/"BEGIN" would end or split/)
  })

  it('with --single-transaction a COMMIT in the second file cannot commit the first', async () => {
    const db = freshDb()
    const dir = migrationsDir({
      [`${A}.sql`]: sqlFile('create table a1 (id int);'),
      [`${B}.sql`]: sqlFile('create table b1 (id int);\n\n  commit;\nselect 1/0;'),
    })
    const r = await migrate(db, ['up', '--single-transaction'], { dir })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(new RegExp(`${B}\\.sql:4: "commit" would end`))
    expect(existing(db, 'users', 'a1', 'b1')).toEqual([])
    expect(journal(db)).toEqual([])
  })

  it.each(['start transaction', 'end', 'abort', 'rollback and chain', 'savepoint s', 'release s', 'rollback to s',
    "prepare transaction 'x'", "commit prepared 'x'", "rollback prepared 'x'"])('refuses %s', async (stmt) => {
    const db = freshDb()
    const r = await migrate(db, ['up', '--dry-run'], { dir: migrationsDir({ [`${A}.sql`]: sqlFile(`create table a1 (id int);\n${stmt};`) }) })
    expect(r.code).toBe(3)
    expect(r.stderr).toContain(`${A}.sql:3: "${stmt}" would end or split the transaction`)
  })

  it('is not fooled by strings, comments, dollar quotes or function bodies', async () => {
    const db = freshDb()
    const dir = migrationsDir({
      [`${A}.sql`]: sqlFile(`create table a1 (note text default 'begin; commit;');
-- commit;
/* rollback; */
do $$ begin perform 1; end $$;
create function a1_f() returns int language plpgsql as $f$ begin return 1; end; $f$;
insert into a1 values ($q$end;$q$);`, 'drop function a1_f(); drop table a1;'),
    })
    const r = await migrate(db, ['up'], { dir })
    expect(r.code, r.stderr).toBe(0)
    expect(existing(db, 'a1')).toEqual(['a1'])
    expect(psql(`select note from a1`, db)).toBe('end;')
  })

  it('a -- todo-db:no-transaction file may manage its own transactions', async () => {
    const db = freshDb()
    const dir = migrationsDir({ [`${A}.sql`]: '-- todo-db:no-transaction\n' + sqlFile('begin; create table n1 (id int); commit;', 'drop table n1;') })
    const r = await migrate(db, ['up'], { dir })
    expect(r.code, r.stderr).toBe(0)
    expect(existing(db, 'n1')).toEqual(['n1'])
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, A])
  })

  it('the Down section is checked when reverting', async () => {
    const db = freshDb()
    const dir = migrationsDir({ [`${A}.sql`]: sqlFile('create table a1 (id int);', 'drop table a1; commit;') })
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    const down = await migrate(db, ['down'], { dir })
    expect(down.code).toBe(3)
    expect(down.stderr).toMatch(new RegExp(`${A}\\.sql:5: "commit" would end`))
    expect(existing(db, 'a1')).toEqual(['a1'])
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, A])
  })

  it('a file the parser cannot parse goes to the server, which parses it whole first: nothing of it runs', async () => {
    const db = freshDb()
    const dir = migrationsDir({ [`${A}.sql`]: sqlFile('begin; create table h3 (id int); commit;\nselec 1;') })
    const r = await migrate(db, ['up'], { dir })
    expect(r.code).toBe(1)
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(
      new RegExp(`${A}\\.sql:3:1: syntax error at or near "selec" \\[42601\\]; it was rolled back, nothing of it remains`))])
    expect(existing(db, 'h3')).toEqual([])
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
  })
})

describe('what a failure says was rolled back is what the catalog shows', () => {
  const files = {
    [`${A}.sql`]: sqlFile('create table a1 (id int);', 'drop table a1;'),
    [`${B}.sql`]: sqlFile('create table b1 (id int);\nselect 1/0;', 'drop table b1;'),
  }

  it('one transaction per file: the earlier file stays (and is named), the failing one is gone', async () => {
    const db = freshDb()
    const r = await migrate(db, ['up'], { dir: migrationsDir(files) })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^applied ${A} before the failure`, 'm'))
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`migration ${B} \\(up\\) failed .*it was rolled back, nothing of it remains$`))])
    expect(existing(db, 'a1', 'b1')).toEqual(['a1'])
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, A])
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('--single-transaction: "the whole run was rolled back" and nothing of any file remains', async () => {
    const db = freshDb()
    const r = await migrate(db, ['up', '--single-transaction'], { dir: migrationsDir(files) })
    expect(r.code).toBe(1)
    expect(r.stderr).not.toMatch(/before the failure/)
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/the whole run was rolled back, the database is as before$/)])
    expect(existing(db, 'users', 'a1', 'b1')).toEqual([])
    expect(journal(db)).toEqual([])
  })

  it('down: the reverted file is named and gone, the failing one is back whole', async () => {
    const db = freshDb()
    const dir = migrationsDir({
      [`${A}.sql`]: sqlFile('create table a1 (id int);', 'drop table a1;\nselect 1/0;'),
      [`${B}.sql`]: sqlFile('create table b1 (id int);', 'drop table b1;'),
    })
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    const r = await migrate(db, ['down', '2'], { dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^reverted ${B} before the failure`, 'm'))
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`migration ${A} \\(down\\) failed .*it was rolled back, nothing of it remains$`))])
    expect(existing(db, 'a1', 'b1')).toEqual(['a1'])
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, A])
  })
})

describe('what a failure shows', () => {
  it('a foreign-key violation (no position from the server): its statement, line, DETAIL; nothing of the file remains', async () => {
    const db = freshDb()
    const dir = migrationsDir({
      [`${A}.sql`]: sqlFile("create table a1 (id int);\ninsert into a1 values (1);\n  insert into todos (user_id, title) values ('00000000-0000-0000-0000-000000000099', 'orphan');\ninsert into a1 values (2);", 'drop table a1;'),
    })
    const r = await migrate(db, ['up'], { dir })
    expect(r.code).toBe(1)
    expect(errorLines(r.stderr)).toEqual([
      `error: migration ${A} (up) failed at ${dir.replace(/^.*\/(todo-db-mig-[^/]+)/, '../$1')}/${A}.sql:4:3 (in "insert into todos (user_id, title) values ('00000000-0000-0000-0000-000000000..."): ` +
      'insert or update on table "todos" violates foreign key constraint "todos_user_id_fkey" [23503]: Key (user_id)=(00000000-0000-0000-0000-000000000099) is not present in table "users".; it was rolled back, nothing of it remains',
    ])
    expect(existing(db, 'a1')).toEqual([])
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)

    const json = JSON.parse((await migrate(db, ['up', '--json'], { dir })).stdout).error
    expect(json).toMatchObject({ sqlState: '23503', migration: A, line: 4, column: 3, detail: 'Key (user_id)=(00000000-0000-0000-0000-000000000099) is not present in table "users".',
      statement: "insert into todos (user_id, title) values ('00000000-0000-0000-0000-000000000099', 'orphan')" })
  })

  it("the server's HINT is the error's hint", async () => {
    const db = freshDb()
    const r = await migrate(db, ['up'], { dir: migrationsDir({ [`${A}.sql`]: sqlFile('select 1;\nselect no_such_fn(1);') }) })
    expect(r.code).toBe(1)
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(
      new RegExp(`${A}\\.sql:3:8: function no_such_fn\\(integer\\) does not exist \\[42883\\]; it was rolled back, nothing of it remains \\(No function matches the given name and argument types\\. You might need to add explicit type casts\\.\\)$`))])
  })

  it('a deferred constraint fails at COMMIT: said so, and nothing of the file remains', async () => {
    const db = freshDb()
    const dir = migrationsDir({
      [`${A}.sql`]: sqlFile('create table p1 (id int primary key);\ncreate table c1 (p int references p1 deferrable initially deferred);\ninsert into c1 values (1);'),
    })
    const r = await migrate(db, ['up'], { dir })
    expect(r.code).toBe(1)
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(
      new RegExp(`^error: migration ${A} \\(up\\) failed at its COMMIT \\(.*${A}\\.sql\\): insert or update on table "c1" violates foreign key constraint .*\\[23503\\]: Key \\(p\\)=\\(1\\) is not present in table "p1"\\.; it was rolled back, nothing of it remains$`))])
    expect(existing(db, 'p1', 'c1')).toEqual([])
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)

    const whole = await migrate(db, ['up', '--single-transaction'], { dir })
    expect(whole.code).toBe(1)
    expect(errorLines(whole.stderr)).toEqual([expect.stringMatching(/^error: migrate up failed at the COMMIT of the run .*the whole run was rolled back, the database is as before$/)])
    expect(existing(db, 'p1', 'c1')).toEqual([])
  })

  it('-v logs what really ran: the statements, the one that failed, and ROLLBACK, never COMMIT', async () => {
    const db = freshDb()
    const dir = migrationsDir({ [`${A}.sql`]: sqlFile('create table a1 (id int);\nselect 1/0;\ncreate table a2 (id int);') })
    expect((await migrate(db, ['up', '--to', SCHEMA_NAMES[2]], { dir })).code).toBe(0)
    const r = await migrate(db, ['up', '-v'], { dir })
    expect(r.code).toBe(1)
    const log = r.stderr.split('\n')
    const begin = log.lastIndexOf('BEGIN;')
    expect(begin).toBeGreaterThanOrEqual(0)
    expect(log.slice(begin)).toEqual(expect.arrayContaining(['create table a1 (id int)', 'select 1/0', '-- failed: division by zero', 'ROLLBACK']))
    expect(log.slice(begin)).not.toContain('create table a2 (id int)')
    expect(log.slice(begin).filter((l) => /^\s*COMMIT/i.test(l))).toEqual([])
    expect(existing(db, 'a1', 'a2')).toEqual([])
  })
})

describe('a failing statement shown in an error', () => {
  it('never shows a password literal it contains (stderr, --json, -v)', async () => {
    const db = freshDb()
    const role = `pw_${db}`
    psql(`create role ${role}`, db)
    const secret = 'Mig-Secret-Pw1'
    const dir = migrationsDir({ [`${A}.sql`]: sqlFile(`select 1;\ncreate role ${role} login password '${secret}';`) })
    for (const args of [['up'], ['up', '--json'], ['up', '-v']]) {
      const r = await migrate(db, args, { dir })
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr + r.stdout).toMatch(new RegExp(`${A}\\.sql:3:1 \\(in "create role ${role} login password '\\*\\*\\*\\*'"\\): role "${role}" already exists`))
      expect(r.stderr + r.stdout).not.toContain(secret)
    }
  })
})
