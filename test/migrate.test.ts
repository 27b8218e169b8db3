import { createHash } from 'node:crypto'
import { appendFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { dbUrl, psql, urlAtPort } from './helpers/db.js'
import { freePort } from './helpers/cluster.js'
import { runCli, tempDir } from './helpers/cli.js'
import { SCHEMA_FILES, SCHEMA_NAMES, freshDb, journal, leftovers, migrate, migrationsDir, publicObjects, sqlFile } from './migrate-fixtures.js'

const BROKEN = '1764000000003_broken'
const brokenSql = sqlFile('create table tags (id int primary key);\ninsert into tags values (1);\nselect * from no_such_table;', 'drop table tags;')

describe('migrate up / down', () => {
  it('up applies every migration once, in order, recording each checksum; a second up does nothing', async () => {
    const db = freshDb()
    const r = await migrate(db, ['up'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout.trim().split('\n').map((l) => l.split(' ')[1])).toEqual(SCHEMA_NAMES)
    const sha = (f: string) => createHash('sha256').update(readFileSync(join(__dirname, '../migrations', f), 'utf8')).digest('hex')
    expect(journal(db)).toEqual(SCHEMA_FILES.map((f, i) => ({ name: SCHEMA_NAMES[i], checksum: sha(f) })))
    expect(publicObjects(db).tables).toEqual(expect.arrayContaining(['users', 'categories', 'todos']))
    const again = await migrate(db, ['up'])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/nothing to apply/)
    expect(journal(db)).toHaveLength(SCHEMA_NAMES.length)
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('up N and --to apply a prefix; down reverts the last; up, down, up ends where it started', async () => {
    const db = freshDb()
    expect((await migrate(db, ['up', '1'])).code).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES.slice(0, 1))
    expect((await migrate(db, ['up', '--to', SCHEMA_FILES[1]])).code).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES.slice(0, 2))
    expect((await migrate(db, ['up'])).code).toBe(0)
    const before = publicObjects(db)

    const down = await migrate(db, ['down'])
    expect(down.code, down.stderr).toBe(0)
    expect(down.stdout).toMatch(new RegExp(`^reverted ${SCHEMA_NAMES.at(-1)}`))
    expect((await migrate(db, ['down', '--to', SCHEMA_NAMES[1]])).stdout).toMatch(new RegExp(`reverted ${SCHEMA_NAMES[2]}`))
    expect(publicObjects(db).tables).not.toContain('todos')
    expect(publicObjects(db).tables).toContain('categories')
    expect((await migrate(db, ['down', '--to', SCHEMA_NAMES[0]])).code).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES.slice(0, 1))

    expect((await migrate(db, ['up'])).code).toBe(0)
    expect(publicObjects(db)).toEqual(before)
  })

  it('passes by what is not a migration (README.md, backups), and names a migration that has no number', async () => {
    const db = freshDb()
    const dir = migrationsDir({ 'README.md': '# how we migrate\n', '.DS_Store': '', '1764000000002_create-todos.sql.orig': 'x' })
    const up = await migrate(db, ['up'], { dir })
    expect(up.code, up.stderr).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)

    const bad = await migrate(db, ['status'], { dir: migrationsDir({ 'add-tags.sql': '-- Up Migration\nselect 1;\n' }) })
    expect(bad.code).toBe(3)
    expect(bad.stderr.trim().split('\n')).toEqual([
      'error: the migration file add-tags.sql has no number to order it by (rename it like 1764000000000_name.sql (todo-db migrate create NAME makes one))',
    ])
  })

  it('outside a project (no ./migrations, no config) applies the todo schema that ships with todo-db', async () => {
    const db = freshDb()
    const cwd = tempDir()
    const r = await runCli(['migrate', 'up'], { cwd, env: { DATABASE_URL: dbUrl(db) } })
    expect(r.code, r.stderr).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
    // a project that chose a folder gets that folder, never the fallback
    writeFileSync(join(cwd, '.todo-dbrc.json'), JSON.stringify({ migrationsDir: 'db/migrations' }))
    const chosen = await runCli(['migrate', 'status'], { cwd, env: { DATABASE_URL: dbUrl(db) } })
    expect(chosen.code).toBe(3)
    expect(chosen.stderr).toMatch(/db\/migrations does not exist/)
  })

  it('a JavaScript migration next to the SQL ones goes through node-pg-migrate\'s runner, up and down', async () => {
    const db = freshDb()
    const dir = migrationsDir({
      '1764000000003_tags.js': "exports.up = (pgm) => { pgm.createTable('tags', { id: 'id', name: { type: 'text', notNull: true } }) }\nexports.down = (pgm) => { pgm.dropTable('tags') }\n",
      // Not migrations: both todo-db and the runner pass them by.
      'README.md': '# how we migrate\n',
      '1764000000003_tags.js~': 'an editor backup\n',
    })
    const up = await migrate(db, ['up'], { dir })
    expect(up.code, up.stderr).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, '1764000000003_tags'])
    expect(publicObjects(db).tables).toContain('tags')
    const down = await migrate(db, ['down'], { dir })
    expect(down.code, down.stderr).toBe(0)
    expect(publicObjects(db).tables).not.toContain('tags')
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
  })

  it('down --all leaves no table, function or type behind', async () => {
    const db = freshDb()
    expect((await migrate(db, ['up'])).code).toBe(0)
    const r = await migrate(db, ['down', '--all'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim().split('\n')).toHaveLength(SCHEMA_NAMES.length)
    expect(publicObjects(db)).toEqual({ tables: [], functions: [], types: [] })
    expect(journal(db)).toEqual([])
    expect((await migrate(db, ['down'])).stdout).toMatch(/nothing to revert/)
  })

  it('--dry-run prints the SQL that would run and changes nothing, not even the migrations table', async () => {
    const db = freshDb()
    const r = await migrate(db, ['up', '--dry-run'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/create table users/)
    expect(r.stdout).toMatch(/create table todos/)
    expect(r.stdout).not.toMatch(/drop table/)
    expect(psql(`select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where nspname = 'public'`, db)).toBe('0')

    expect((await migrate(db, ['up'])).code).toBe(0)
    const down = await migrate(db, ['down', '--all', '--dry-run', '--json'])
    expect(down.code).toBe(0)
    const doc = JSON.parse(down.stdout)
    expect(doc.migrations.map((m: { name: string }) => m.name)).toEqual([...SCHEMA_NAMES].reverse())
    expect(doc.migrations.find((m: { name: string }) => m.name === SCHEMA_NAMES[2]).sql).toMatch(/drop table todos/)
    expect(journal(db)).toHaveLength(SCHEMA_NAMES.length)
  })
})

describe('-- todo-db:no-transaction', () => {
  const INDEX = '1764000000003_todos-title-index'
  const concurrently = (marker: boolean) => (marker ? '-- todo-db:no-transaction\n' : '') +
    sqlFile('create index concurrently todos_title_idx on todos (title);', 'drop index concurrently todos_title_idx;')
  const index = (db: string) => psql(`select coalesce((select indisvalid::text from pg_index where indexrelid = to_regclass('todos_title_idx')), 'none')`, db)

  it('runs the file outside a transaction: CREATE INDEX CONCURRENTLY applies, and reverts', async () => {
    const db = freshDb()
    // Without the line, PostgreSQL refuses it: that is what the line is for.
    const refused = await migrate(db, ['up'], { dir: migrationsDir({ [`${INDEX}.sql`]: concurrently(false) }) })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/cannot run inside a transaction block/)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)

    const dir = migrationsDir({ [`${INDEX}.sql`]: concurrently(true) })
    const dry = await migrate(db, ['up', '--dry-run'], { dir })
    expect(dry.stdout).toMatch(new RegExp(`migrate up ${INDEX} \\(outside a transaction\\)`))
    const up = await migrate(db, ['up'], { dir })
    expect(up.code, up.stderr).toBe(0)
    expect(up.stderr).toMatch(`${INDEX} runs outside a transaction (todo-db:no-transaction)`)
    expect(index(db)).toBe('true')
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, INDEX])
    const down = await migrate(db, ['down'], { dir })
    expect(down.code, down.stderr).toBe(0)
    expect(index(db)).toBe('none')
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('migrate create --no-transaction writes the line; filled in, the file applies', async () => {
    const db = freshDb()
    const dir = migrationsDir()
    const made = await migrate(db, ['create', 'todos-title-index', '--no-transaction'], { dir })
    expect(made.code, made.stderr).toBe(0)
    const path = made.stdout.trim().replace(/^created /, '')
    const text = readFileSync(path, 'utf8')
    expect(text).toMatch(/^-- todo-db:no-transaction\n/)
    writeFileSync(path, text.replace('-- Up Migration\n', '-- Up Migration\ncreate index concurrently todos_title_idx on todos (title);\n'))
    const up = await migrate(db, ['up'], { dir })
    expect(up.code, up.stderr).toBe(0)
    expect(index(db)).toBe('true')
  })

  it('is refused with --single-transaction, and a failure says to check what it left', async () => {
    const db = freshDb()
    const dir = migrationsDir({ [`${INDEX}.sql`]: concurrently(true) })
    const single = await migrate(db, ['up', '--single-transaction'], { dir })
    expect(single.code).toBe(3)
    expect(single.stderr).toMatch(/runs outside a transaction \(todo-db:no-transaction\): it cannot be part of --single-transaction/)
    expect(journal(db)).toEqual([])

    expect((await migrate(db, ['up'])).code).toBe(0)
    psql(`insert into users (email, name) values ('a@example.org', 'A');
          insert into todos (user_id, title) select id, 'same' from users; insert into todos (user_id, title) select id, 'same' from users`, db)
    const unique = migrationsDir({ [`${INDEX}.sql`]: '-- todo-db:no-transaction\n' +
      sqlFile('create unique index concurrently todos_title_idx on todos (title);', 'drop index concurrently todos_title_idx;') })
    const r = await migrate(db, ['up'], { dir: unique })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toEqual([expect.stringMatching(
      /could not create unique index.*\[23505\]: Key \(title\)=\(same\) is duplicated\.; it ran outside a transaction \(todo-db:no-transaction\), so check what it left \(an INVALID index, say\)/)])
    // What PostgreSQL leaves after a failed CREATE INDEX CONCURRENTLY, and why the message says so.
    expect(index(db)).toBe('false')
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
  })
})

describe('a failing migration', () => {
  it('is rolled back whole: exit 1, one line naming file, line:column and the server message', async () => {
    const db = freshDb()
    const dir = migrationsDir({ [`${BROKEN}.sql`]: brokenSql })
    const r = await migrate(db, ['up'], { dir })
    expect(r.code).toBe(1)
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`migration ${BROKEN} (up) failed at `)
    // line 4, column 15 of the file: "no_such_table" in "select * from no_such_table"
    expect(errors[0]).toMatch(new RegExp(`${BROKEN}\\.sql:4:15: relation "no_such_table" does not exist \\[42P01\\]`))
    expect(r.stderr).not.toMatch(/^\s+at /m)
    // the files before it are applied; nothing of it remains
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
    expect(psql(`select to_regclass('public.tags') is null`, db)).toBe('t')
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('with --single-transaction takes the whole run back: the database is as before', async () => {
    const db = freshDb()
    const dir = migrationsDir({ [`${BROKEN}.sql`]: brokenSql })
    const r = await migrate(db, ['up', '--single-transaction'], { dir })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(
      new RegExp(`^error: migration ${BROKEN} \\(up\\) failed at .*${BROKEN}\\.sql:4:15: .*the whole run was rolled back, the database is as before`))])
    expect(journal(db)).toEqual([])
    expect(psql(`select count(*) from pg_tables where schemaname = 'public' and tablename <> 'pgmigrations'`, db)).toBe('0')
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })

    // Without the broken file it applies everything, and reverts everything, in one go.
    const up = await migrate(db, ['up', '--single-transaction'])
    expect(up.code, up.stderr).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
    const down = await migrate(db, ['down', '--all', '--single-transaction'])
    expect(down.code, down.stderr).toBe(0)
    expect(journal(db)).toEqual([])
  })

  it('line:column counts characters as the server does: emoji earlier in the file do not shift it', async () => {
    const db = freshDb()
    const dir = migrationsDir({ [`${BROKEN}.sql`]: sqlFile("-- 🎉 tags, with 👍 and 👎\ncreate table tags (label text default '😀😀');\nselect '😀😀', nope;", 'drop table tags;') })
    const r = await migrate(db, ['up'], { dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`${BROKEN}\\.sql:4:14: column "nope" does not exist \\[42703\\]`))
  })

  it('a file named with an apostrophe applies and reverts (the journal row is written with parameters)', async () => {
    const db = freshDb()
    const name = "1764000000003_o'brien"
    const dir = migrationsDir({ [`${name}.sql`]: sqlFile('create table obrien (id int);', 'drop table obrien;') })
    const up = await migrate(db, ['up'], { dir })
    expect(up.code, up.stderr).toBe(0)
    expect(journal(db).at(-1)).toEqual({ name, checksum: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect((await migrate(db, ['status'], { dir })).code).toBe(0)
    const down = await migrate(db, ['down'], { dir })
    expect(down.code, down.stderr).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
    expect(psql(`select to_regclass('public.obrien') is null`, db)).toBe('t')
  })

  it('a failure to record the migration blames the journal, not the file', async () => {
    const db = freshDb()
    expect((await migrate(db, ['up'])).code).toBe(0)
    psql(`create function no_more() returns trigger language plpgsql as $$ begin raise exception 'journal is read-only'; end $$;
      create trigger no_more before insert on pgmigrations for each row execute function no_more();`, db)
    const r = await migrate(db, ['up'], { dir: migrationsDir({ '1764000000003_tags.sql': sqlFile('create table tags (id int);') }) })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toEqual([
      'error: migration 1764000000003_tags (up) ran, but recording it in public.pgmigrations failed: journal is read-only [P0001]; it was rolled back, nothing of it remains',
    ])
    expect(psql(`select to_regclass('public.tags') is null`, db)).toBe('t')
  })

  it('two migrations with one name (001_a.sql and 001_a.js) are bad input, even when one is applied', async () => {
    const db = freshDb()
    const dir = migrationsDir()
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    writeFileSync(join(dir, `${SCHEMA_NAMES[2]}.js`), "exports.up = (pgm) => { pgm.sql('create table sneaky (id int)') }\n")
    for (const args of [['up'], ['status']]) {
      const r = await migrate(db, args, { dir })
      expect(r.code, args.join(' ')).toBe(3)
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(
        new RegExp(`^error: two migrations are named ${SCHEMA_NAMES[2]}: ${SCHEMA_NAMES[2]}\\.(js|sql) and ${SCHEMA_NAMES[2]}\\.(sql|js) \\(rename or remove one`))])
    }
  })

  it('--json gives the error as a document with the migration, file, line and SQLSTATE', async () => {
    const db = freshDb()
    const dir = migrationsDir({ [`${BROKEN}.sql`]: brokenSql })
    const r = await migrate(db, ['up', '--json'], { dir })
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'MIGRATION_FAILED', sqlState: '42P01', migration: BROKEN, line: 4, column: 15 })
  })
})

describe('file encoding', () => {
  it('a file that is not UTF-8 (Latin-1 "café") is refused with its byte offset, before anything runs', async () => {
    const db = freshDb()
    const dir = migrationsDir()
    const text = sqlFile("create table cafes (name text);\ninsert into cafes values ('caf\xe9');", 'drop table cafes;')
    writeFileSync(join(dir, '1764000000003_cafes.sql'), Buffer.from(text, 'latin1'))
    const offset = Buffer.from(text, 'latin1').indexOf(0xe9)
    for (const args of [['up'], ['status'], ['up', '--dry-run']]) {
      const r = await migrate(db, args, { dir })
      expect(r.code, args.join(' ')).toBe(3)
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(
        new RegExp(`^error: .*1764000000003_cafes\\.sql is not valid UTF-8: byte 0xe9 at byte offset ${offset} \\(line 3\\)`))])
    }
    expect(journal(db)).toEqual([])
    expect(psql(`select to_regclass('public.cafes') is null`, db)).toBe('t')
  })

  it('UTF-8 applies as written; the checksum is the one older versions recorded, CRLF still is not drift', async () => {
    const db = freshDb()
    const text = sqlFile("create table cafes (name text);\ninsert into cafes values ('café ☕');", 'drop table cafes;')
    const dir = migrationsDir({ '1764000000003_cafes.sql': text })
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    expect(psql(`select name from cafes`, db)).toBe('café ☕')
    // as todo-db computed it before: sha256 of the decoded text
    const old = createHash('sha256').update(text).digest('hex')
    expect(journal(db).at(-1)).toEqual({ name: '1764000000003_cafes', checksum: old })
    writeFileSync(join(dir, '1764000000003_cafes.sql'), text.replace(/\n/g, '\r\n'))
    expect((await migrate(db, ['status'], { dir })).code).toBe(0)
  })
})

describe('drift', () => {
  it('an edited applied file: status reports it (exit 4), up refuses naming it and applies nothing', async () => {
    const db = freshDb()
    const dir = migrationsDir()
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    appendFileSync(join(dir, SCHEMA_FILES[1]), '\n-- a later edit\n')
    appendFileSync(join(dir, '1764000000009_more.sql'), sqlFile('create table more (id int);', 'drop table more;'))

    const status = await migrate(db, ['status', '--json'], { dir })
    expect(status.code).toBe(4)
    const doc = JSON.parse(status.stdout)
    expect(doc.drift).toEqual([expect.objectContaining({ name: SCHEMA_NAMES[1], kind: 'edited' })])
    expect(doc.pending).toBe(1)
    expect(doc.migrations.find((m: { name: string }) => m.name === SCHEMA_NAMES[1])).toMatchObject({ applied: true, checksumOk: false })
    expect(doc.migrations.find((m: { name: string }) => m.name === SCHEMA_NAMES[0])).toMatchObject({ applied: true, checksumOk: true })

    const human = await migrate(db, ['status'], { dir })
    expect(human.code).toBe(4)
    expect(human.stdout).toMatch(new RegExp(`EDITED\\s+\\S+ \\S+\\s+${SCHEMA_NAMES[1]}`))

    const up = await migrate(db, ['up'], { dir })
    expect(up.code).toBe(4)
    expect(up.stderr).toMatch(new RegExp(`drift: ${SCHEMA_NAMES[1]} was edited after it was applied`))
    expect(psql(`select to_regclass('public.more') is null`, db)).toBe('t')
    expect((await migrate(db, ['down'], { dir })).code).toBe(4)
  })

  it('a missing applied file is reported and refused', async () => {
    const db = freshDb()
    const dir = migrationsDir()
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    rmSync(join(dir, SCHEMA_FILES[2]))
    const status = await migrate(db, ['status', '--json'], { dir })
    expect(status.code).toBe(4)
    expect(JSON.parse(status.stdout).drift).toEqual([expect.objectContaining({ name: SCHEMA_NAMES[2], kind: 'missing' })])
    const up = await migrate(db, ['up'], { dir })
    expect(up.code).toBe(4)
    expect(up.stderr).toMatch(new RegExp(`${SCHEMA_NAMES[2]} was applied but its file is missing`))
  })

  it('a new file that sorts before an applied one is refused', async () => {
    const db = freshDb()
    const dir = migrationsDir()
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    appendFileSync(join(dir, '1764000000000_5-late.sql'), sqlFile('select 1;'))
    const up = await migrate(db, ['up'], { dir })
    expect(up.code).toBe(4)
    expect(up.stderr).toMatch(/1764000000000_5-late is pending but sorts before the applied/)
  })

  it('history from before checksums (node-pg-migrate alone) is trusted once and recorded', async () => {
    const db = freshDb()
    expect((await migrate(db, ['up'])).code).toBe(0)
    psql(`alter table pgmigrations drop column checksum`, db)
    const status = await migrate(db, ['status', '--json'])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout).migrations.map((m: { checksumOk: unknown }) => m.checksumOk)).toEqual(SCHEMA_NAMES.map(() => null))
    const up = await migrate(db, ['up'])
    expect(up.code).toBe(0)
    expect(up.stdout).toMatch(/recorded the checksum of/)
    expect(journal(db).every((j) => j.checksum && /^[0-9a-f]{64}$/.test(j.checksum))).toBe(true)
  })
})

describe('status --exit-code', () => {
  it('exits 5 while migrations are pending, 0 when up to date, 4 on drift; plain status exits 0', async () => {
    const db = freshDb()
    const dir = migrationsDir()
    const pending = await migrate(db, ['status', '--exit-code'], { dir })
    expect(pending.code).toBe(5)
    expect(pending.stdout).toMatch(new RegExp(`${SCHEMA_NAMES.length} pending`))
    expect((await migrate(db, ['status'], { dir })).code).toBe(0)
    expect((await migrate(db, ['status', '--exit-code', '--json'], { dir })).code).toBe(5)
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    expect((await migrate(db, ['status', '--exit-code'], { dir })).code).toBe(0)
    appendFileSync(join(dir, SCHEMA_FILES[0]), '\n-- edited\n')
    appendFileSync(join(dir, '1764000000009_more.sql'), sqlFile('select 1;'))
    expect((await migrate(db, ['status', '--exit-code'], { dir })).code).toBe(4)
  })
})

describe('bad input exits 3', () => {
  it.each([
    [['up', '--to', 'no-such-migration'], /unknown migration "no-such-migration"/],
    [['up', '0'], /count "0" is not a whole number/],
    [['down', 'two'], /count "two" is not a whole number/],
    [['up', '1', '--to', SCHEMA_NAMES[0]], /give one of/],
    [['down', '--to', SCHEMA_NAMES[0]], /not applied/],
    [['up', '--migrations-dir', '/nonexistent/migrations'], /migrations folder \/nonexistent\/migrations does not exist/],
  ])('migrate %j', async (args, message) => {
    const db = freshDb()
    const dirIndex = args.indexOf('--migrations-dir')
    const r = await migrate(db, dirIndex < 0 ? args : args.slice(0, dirIndex), dirIndex < 0 ? {} : { dir: args[dirIndex + 1] })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(message)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(journal(db)).toEqual([])
  })

  it('flags that do not go together are refused before connecting', async () => {
    const nowhere = await freePort()
    for (const args of [['down', '--all', '2'], ['up', '1', '--to', SCHEMA_NAMES[0]]]) {
      const r = await runCli(['migrate', ...args, '--database-url', urlAtPort(nowhere)])
      expect(r.code, args.join(' ')).toBe(3)
      expect(r.stderr).toMatch(/give one of .* not both/)
    }
  })

  it('with no DATABASE_URL', async () => {
    const r = await migrate('unused', ['up'], { env: { DATABASE_URL: undefined } })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/DATABASE_URL is not set/)
  })
})

describe('migrate create', () => {
  it('writes a timestamped SQL file with both markers that sorts after every existing one', async () => {
    const dir = join(tempDir(), 'migrations')
    const first = await migrate('unused', ['create', 'add-tags'], { dir })
    expect(first.code, first.stderr).toBe(0)
    const second = await migrate('unused', ['create', 'add_tag_index'], { dir })
    expect(second.code).toBe(0)
    const files = readdirSync(dir).sort()
    expect(files).toHaveLength(2)
    expect(files[0]).toMatch(/^\d{13}_add-tags\.sql$/)
    expect(files[1]).toMatch(/^\d{13}_add_tag_index\.sql$/)
    expect(Number(files[1].split('_')[0])).toBeGreaterThan(Number(files[0].split('_')[0]))
    expect(readFileSync(join(dir, files[0]), 'utf8')).toMatch(/^-- Up Migration\n[\s\S]*\n-- Down Migration\n/)
    expect(first.stdout).toContain(files[0])
  })

  it('a new file still sorts last when the clock is behind the newest file', async () => {
    const dir = migrationsDir({ '1900000000000_future.sql': sqlFile('select 1;') }, false)
    expect((await migrate('unused', ['create', 'after-future'], { dir })).code).toBe(0)
    expect(readdirSync(dir).sort()[1]).toBe('1900000000001_after-future.sql')
  })

  it('where init never ran (up/status use the bundled schema) says to run init first, and writes nothing', async () => {
    const db = freshDb()
    const cwd = tempDir()
    const env = { DATABASE_URL: dbUrl(db) }
    const r = await runCli(['migrate', 'create', 'add-tags'], { cwd, env })
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: there is no migrations folder here .*run todo-db init first/)])
    expect(readdirSync(cwd)).toEqual([])
    // the bundled schema is still what status sees: nothing MISSING
    expect((await runCli(['migrate', 'status'], { cwd, env })).code).toBe(0)
    expect((await runCli(['init'], { cwd })).code).toBe(0)
    const made = await runCli(['migrate', 'create', 'add-tags'], { cwd, env })
    expect(made.code, made.stderr).toBe(0)
    expect(readdirSync(join(cwd, 'migrations')).filter((f) => f.endsWith('.sql'))).toHaveLength(SCHEMA_FILES.length + 1)
  })

  it('refuses a name with spaces or slashes (exit 3)', async () => {
    const r = await migrate('unused', ['create', '../escape'], { dir: join(tempDir(), 'm') })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/must be letters, digits/)
  })
})
