// Adopting and repairing: baseline (a database made without todo-db), accept (an edited file,
// after review), redo (down then up of the last N).
import { createHash } from 'node:crypto'
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { secrets } from './helpers/cli.js'
import { psql } from './helpers/db.js'
import { SCHEMA_NAMES, freshDb, journal, leftovers, migrate, migrationsDir, sleeping, sqlFile, startMigrate } from './helpers/migrate.js'
import { waitFor } from './helpers/wait.js'

const sqlLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`

/** A database with the app's schema but no migration history, as create_all or a restored dump leaves it. */
async function adoptedDb(): Promise<string> {
  const db = freshDb('adopt')
  expect((await migrate(db, ['up'])).code).toBe(0)
  psql('drop table pgmigrations', db)
  return db
}

describe('migrate baseline', () => {
  it('records every pending migration as applied, with its checksum, once what they create is found; then up has nothing to do', async () => {
    const db = await adoptedDb()
    const r = await migrate(db, ['baseline', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.baselined.map((b: { name: string }) => b.name)).toEqual(SCHEMA_NAMES)
    // 0003 drops an index 0002 created: it is not looked for.
    const todos = doc.baselined.find((b: { name: string }) => b.name === '1764000000002_create-todos')
    expect(todos.objects).toEqual(expect.arrayContaining([{ kind: 'table', name: 'todos' }, { kind: 'trigger', name: 'todos_set_updated_at on todos' }]))
    expect(todos.objects).not.toContainEqual({ kind: 'index', name: 'todos_user_category_idx' })
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
    expect(journal(db).every((j) => j.checksum)).toBe(true)
    const up = await migrate(db, ['up'])
    expect(up.code, up.stderr).toBe(0)
    expect(up.stdout).toMatch(/nothing to apply/)
    expect((await migrate(db, ['status'])).code).toBe(0)
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('refuses (exit 1) naming what is missing and records nothing', async () => {
    const db = await adoptedDb()
    psql('drop index todos_user_status_idx; alter table users drop constraint users_email_length', db)
    const r = await migrate(db, ['baseline', '--json'])
    expect(r.code, r.stderr).toBe(1)
    const doc = JSON.parse(r.stdout)
    expect(doc.error.code).toBe('BASELINE_MISMATCH')
    expect(doc.error.missing).toEqual([
      { migration: '1764000000002_create-todos', kind: 'index', name: 'todos_user_status_idx' },
      { migration: '1764000000003_app-schema-fixes', kind: 'constraint', name: 'users_email_length on users' },
    ])
    expect(r.stderr).toMatch(/index todos_user_status_idx \(1764000000002_create-todos\)/)
    expect(r.stderr).toMatch(/nothing was recorded/)
    expect(journal(db)).toEqual([])

  })

  it('--to records only up to that migration, for a database made at an older version; up applies the rest', async () => {
    const db = freshDb('adopt')
    expect((await migrate(db, ['up', '--to', '1764000000001_create-categories'])).code).toBe(0)
    psql('drop table pgmigrations', db)
    const to = await migrate(db, ['baseline', '--to', '1764000000001_create-categories'])
    expect(to.code, to.stderr).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES.slice(0, 2))
    const up = await migrate(db, ['up'])
    expect(up.code, up.stderr).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
  })

  it('refuses an empty database: nothing the first migration creates is there', async () => {
    const db = freshDb('adopt')
    const r = await migrate(db, ['baseline'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/baseline refused: .*table users \(1764000000000_create-users\)/)
    expect(journal(db)).toEqual([])
  })

  it('checks columns and constraints added by ALTER TABLE in a project migration', async () => {
    const dir = migrationsDir({ '1764000000010_tags.sql': sqlFile('alter table todos add column tag text;\nalter table todos add constraint todos_tag_len check (char_length(tag) < 50);', 'alter table todos drop column tag;') })
    const db = await adoptedDb()
    const r = await migrate(db, ['baseline'], { dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/column tag on todos \(1764000000010_tags\), constraint todos_tag_len on todos/)
    psql('alter table todos add column tag text, add constraint todos_tag_len check (char_length(tag) < 50)', db)
    const ok = await migrate(db, ['baseline'], { dir })
    expect(ok.code, ok.stderr).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, '1764000000010_tags'])
  })
})

describe('drift: what changed, and migrate accept', () => {
  it('status names the edited file and the way to accept it; accept re-records its checksum, never on its own', async () => {
    const dir = migrationsDir()
    const db = freshDb('accept')
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    const name = SCHEMA_NAMES[1]
    const file = join(dir, `${name}.sql`)
    appendFileSync(file, '\n-- reviewed: the categories colour is optional\n')
    const before = journal(db).find((j) => j.name === name)!.checksum

    const status = await migrate(db, ['status'], { dir })
    expect(status.code).toBe(4)
    expect(status.stderr).toContain(`${name} was edited after it was applied (`)
    expect(status.stderr).toContain(`${name}.sql)`)
    expect(status.stderr).toContain(`todo-db migrate accept ${name}`)
    // up still refuses: nothing accepts an edit but accept.
    expect((await migrate(db, ['up'], { dir })).code).toBe(4)
    expect(journal(db).find((j) => j.name === name)!.checksum).toBe(before)

    const r = await migrate(db, ['accept', name, '--json'], { dir })
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout)
    const now = createHash('sha256').update(readFileSync(file)).digest('hex')
    expect(doc).toMatchObject({ ok: true, name, accepted: true, previous: before, checksum: now })
    expect(journal(db).find((j) => j.name === name)!.checksum).toBe(now)
    expect((await migrate(db, ['status', '--exit-code'], { dir })).code).toBe(0)

    const again = await migrate(db, ['accept', `${name}.sql`], { dir })
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/already matches .*nothing to accept/)
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('drift says the first line that changed (status, up, --json), and accept says what it accepted and keeps the new text', async () => {
    const dir = migrationsDir()
    const db = freshDb('accept')
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    const name = SCHEMA_NAMES[1]
    const file = join(dir, `${name}.sql`)
    const text = readFileSync(file, 'utf8')
    const lines = text.split('\n')
    const at = lines.findIndex((l) => /not null/i.test(l))
    expect(at).toBeGreaterThan(0)
    const edited = lines[at].replace(/not null/i, 'null')
    writeFileSync(file, [...lines.slice(0, at), edited, ...lines.slice(at + 1)].join('\n'))
    const said = `line ${at + 1} was "${lines[at]}", now "${edited}"`

    const status = await migrate(db, ['status', '--json'], { dir })
    expect(status.code).toBe(4)
    const drift = JSON.parse(status.stdout).drift
    expect(drift).toEqual([{ name, kind: 'edited', message: expect.stringContaining(said), difference: { line: at + 1, applied: lines[at], now: edited } }])
    expect(status.stderr).toContain(said)
    const up = await migrate(db, ['up', '--json'], { dir })
    expect(up.code).toBe(4)
    expect(up.stderr).toContain(said)
    expect(JSON.parse(up.stdout).error.drift[0].difference).toEqual({ line: at + 1, applied: lines[at], now: edited })

    const r = await migrate(db, ['accept', name, '--json'], { dir })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).difference).toEqual({ line: at + 1, applied: lines[at], now: edited })
    expect(psql(`select content = ${sqlLiteral(readFileSync(file, 'utf8'))} from pgmigrations where name = '${name}'`, db)).toBe('t')
    // the next edit is told against the accepted text, not the first one
    appendFileSync(file, 'select 1;\n')
    const next = await migrate(db, ['status'], { dir })
    expect(next.code).toBe(4)
    expect(next.stderr).toMatch(/line \d+ was "", now "select 1;"|line \d+ was \(end of file\), now "select 1;"/)
  })

  it('the kept text is the file byte for byte, whichever way it ran (pipelined, or alone outside a transaction)', async () => {
    const tricky = "-- it's \\ a 'quoted' \\n line, é, 😀, tab\there\r\n"
    const files = {
      '1764000000010_tricky.sql': sqlFile(`${tricky}create table tricky (id int);`, 'drop table tricky;'),
      '1764000000011_alone.sql': `-- todo-db:no-transaction\n${sqlFile(`${tricky}create index concurrently tricky_id on tricky (id);`, 'drop index concurrently tricky_id;')}`,
    }
    const dir = migrationsDir(files)
    const db = freshDb('accept')
    const r = await migrate(db, ['up'], { dir })
    expect(r.code, r.stderr).toBe(0)
    for (const [file, text] of Object.entries(files)) {
      expect(psql(`select content = ${sqlLiteral(text)} from pgmigrations where name = '${file.replace('.sql', '')}'`, db)).toBe('t')
    }
    expect((await migrate(db, ['status', '--exit-code'], { dir })).code).toBe(0)
  })

  it('a journal from before the text was kept: drift says so; the next up keeps the text of every file that matches its checksum', async () => {
    const dir = migrationsDir()
    const db = freshDb('accept')
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    psql('alter table pgmigrations drop column content', db)
    const file = join(dir, `${SCHEMA_NAMES[0]}.sql`)
    const original = readFileSync(file, 'utf8')
    appendFileSync(file, '-- edited\n')
    const status = await migrate(db, ['status', '--json'], { dir })
    expect(status.code).toBe(4)
    expect(JSON.parse(status.stdout).drift[0]).toMatchObject({ kind: 'edited', difference: null, message: expect.stringContaining('the applied text was not kept') })
    // status reads only: it adds no column
    expect(psql(`select count(*) from pg_attribute where attrelid = 'pgmigrations'::regclass and attname = 'content'`, db)).toBe('0')

    writeFileSync(file, original)
    const up = await migrate(db, ['up'], { dir })
    expect(up.code, up.stderr).toBe(0)
    const kept = psql(`select string_agg(name, ',' order by id) from pgmigrations where content is not null`, db)
    expect(kept.split(',')).toEqual(SCHEMA_NAMES)
    appendFileSync(file, '-- edited\n')
    expect((await migrate(db, ['status'], { dir })).stderr).toMatch(/now "-- edited"/)
  })

  it('the text of a migration from node-pg-migrate alone (no checksum) is kept with its checksum on the next up', async () => {
    const dir = migrationsDir()
    const db = freshDb('accept')
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    psql('alter table pgmigrations drop column content, drop column checksum', db)
    const up = await migrate(db, ['up'], { dir })
    expect(up.code, up.stderr).toBe(0)
    expect(psql(`select count(*) from pgmigrations where content is not null and checksum is not null`, db)).toBe(String(SCHEMA_NAMES.length))
  })

  it('accept refuses (exit 3) a migration that is unknown, pending, or whose file is gone', async () => {
    const dir = migrationsDir()
    const db = freshDb('accept')
    expect((await migrate(db, ['up', '1'], { dir })).code).toBe(0)
    const unknown = await migrate(db, ['accept', 'nope'], { dir })
    expect(unknown.code).toBe(3)
    expect(unknown.stderr).toMatch(/unknown migration "nope"/)
    const pending = await migrate(db, ['accept', SCHEMA_NAMES[2]], { dir })
    expect(pending.code).toBe(3)
    expect(pending.stderr).toMatch(/is not applied/)
    rmSync(join(dir, `${SCHEMA_NAMES[0]}.sql`))
    const gone = await migrate(db, ['accept', SCHEMA_NAMES[0], '--json'], { dir })
    expect(gone.code).toBe(3)
    expect(JSON.parse(gone.stdout).error.code).toBe('MIGRATION_FILE_MISSING')
  })
})

describe('migrate redo', () => {
  const TAGS = '1764000000010_tags'
  const tags = sqlFile('create table tags (id int primary key);\ninsert into tags select id from tag_seed;', 'drop table tags;')
  const ids = (db: string) => psql('select string_agg(id::text, \',\' order by id) from tags', db)

  it('reverts and re-applies the last N under one lock, asking first (exit 3 without --yes and no terminal)', async () => {
    const dir = migrationsDir({ [`${TAGS}.sql`]: tags })
    const db = freshDb('redo')
    psql('create table tag_seed (id int); insert into tag_seed values (1), (2)', db)
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    psql('insert into tags values (99)', db)

    const asked = await migrate(db, ['redo', '--json'], { dir })
    expect(asked.code).toBe(3)
    expect(JSON.parse(asked.stdout).error).toMatchObject({ code: 'CONFIRMATION_REQUIRED', destroys: [TAGS] })
    expect(ids(db)).toBe('1,2,99')

    const r = await migrate(db, ['redo', '2', '--yes', '--json'], { dir })
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.reverted.map((m: { name: string }) => m.name)).toEqual([TAGS, SCHEMA_NAMES[3]])
    expect(doc.applied.map((m: { name: string }) => m.name)).toEqual([SCHEMA_NAMES[3], TAGS])
    // The row the app wrote went with the table: down then up really ran.
    expect(ids(db)).toBe('1,2')
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, TAGS])
    expect(journal(db).every((j) => j.checksum)).toBe(true)
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('a failure in the up half takes the down half back too: the database is as before (exit 1)', async () => {
    const dir = migrationsDir({ [`${TAGS}.sql`]: tags })
    const db = freshDb('redo')
    psql('create table tag_seed (id int); insert into tag_seed values (1)', db)
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    psql('insert into tags values (99); insert into tag_seed values (1)', db)
    const r = await migrate(db, ['redo', '--yes'], { dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/tags_pkey|duplicate key/)
    expect(ids(db)).toBe('1,99')
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, TAGS])
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })
})

describe('migrate redo --dry-run', () => {
  const TAGS = '1764000000010_tags'
  const S = `-k${process.pid}r`
  // A password in each direction: the dry run masks both.
  const tags = sqlFile(
    `create table tags (id int primary key);\ninsert into tags select id from tag_seed;\ncomment on table tags is 'host=h password=Up${S}';`,
    `select 'host=h password=Down${S}';\ndrop table tags;`)
  /** Everything redo would change: the journal rows as they are (run_on too), the table itself (its oid) and its rows. */
  const state = (db: string) => ({
    journal: psql('select id, name, run_on, checksum from pgmigrations order by id', db),
    table: psql("select 'tags'::regclass::oid", db),
    rows: psql('select string_agg(id::text, \',\' order by id) from tags', db),
  })

  it('lists what redo would ask about and prints the down, then up, SQL of each; needs no --yes and changes nothing', async () => {
    secrets.add(`Up${S}`).add(`Down${S}`)
    const dir = migrationsDir({ [`${TAGS}.sql`]: tags })
    const db = freshDb('redo')
    psql('create table tag_seed (id int); insert into tag_seed values (1), (2)', db)
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    psql('insert into tags values (99)', db)
    const before = state(db)
    const last = SCHEMA_NAMES[SCHEMA_NAMES.length - 1]

    // No terminal and no --yes: the real redo refuses (see above); the dry run does not ask.
    const human = await migrate(db, ['redo', '2', '--dry-run'], { dir })
    expect(human.code, human.stderr).toBe(0)
    const out = human.stdout
    expect(out).toContain(`-- dry run: migrate redo reverts (dropping what they made, data included) and re-applies, in one transaction:\n--   ${TAGS}\n--   ${last}\n`)
    const at = (s: string) => {
      expect(out).toContain(s)
      return out.indexOf(s)
    }
    // Down, last applied first, then up in file order.
    const order = [at(`-- down ${TAGS}\n`), at(`-- down ${last}\n`), at(`-- up ${last}\n`), at(`-- up ${TAGS}\n`)]
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(out.slice(order[0], order[1])).toContain("select 'host=h password=****';\ndrop table tags;")
    expect(out.slice(order[3])).toContain("create table tags (id int primary key);\ninsert into tags select id from tag_seed;\ncomment on table tags is 'host=h password=****';")
    expect(out).not.toContain(S)

    const json = await migrate(db, ['redo', '2', '--dry-run', '--json'], { dir })
    expect(json.code, json.stderr).toBe(0)
    expect(json.stdout).not.toContain(S)
    const doc = JSON.parse(json.stdout)
    expect(doc).toMatchObject({ ok: true, dryRun: true, destroys: [TAGS, last] })
    expect(doc.down.map((m: { name: string }) => m.name)).toEqual([TAGS, last])
    expect(doc.up.map((m: { name: string }) => m.name)).toEqual([last, TAGS])
    expect(doc.down[0].sql).toMatch(/drop table tags;/)
    expect(doc.up[1].sql).toMatch(/create table tags/)
    expect(doc.up[1].sql).toContain("password=****'")

    // Nothing changed: the same journal rows, the same table (not dropped and made again), its rows.
    expect(state(db)).toEqual(before)
    expect(before.rows).toBe('1,2,99')
    expect(leftovers(db)).toEqual({ advisoryLocks: 0, openTransactions: 0 })
  })

  it('with nothing applied says so; what would refuse redo refuses the dry run alike', async () => {
    const db = freshDb('redo')
    const none = await migrate(db, ['redo', '--dry-run', '--json'])
    expect(none.code, none.stderr).toBe(0)
    expect(JSON.parse(none.stdout)).toEqual({ ok: true, dryRun: true, destroys: [], down: [], up: [] })
    expect((await migrate(db, ['redo', '--dry-run'])).stdout).toMatch(/nothing to redo/)

    const INDEX = '1764000000010_index'
    const dir = migrationsDir({ [`${INDEX}.sql`]: `-- todo-db:no-transaction\n${sqlFile('create index concurrently todos_title_idx on todos (title);', 'drop index concurrently todos_title_idx;')}` })
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    const refused = await migrate(db, ['redo', '--dry-run', '--json'], { dir })
    expect(refused.code).toBe(3)
    expect(JSON.parse(refused.stdout).error.message).toMatch(/runs outside a transaction .* and redo runs in one/)
    appendFileSync(join(dir, `${INDEX}.sql`), '\n-- edited\n')
    expect((await migrate(db, ['redo', '--dry-run'], { dir })).code).toBe(4)
  })
})

describe('migrate baseline follows renames', () => {
  it('a table, column and constraint renamed by a later migration are looked for under their new names', async () => {
    const dir = migrationsDir({
      '1764000000010_labels.sql': sqlFile('create table labels (id int primary key, txt text, constraint labels_txt_len check (char_length(txt) < 9));', 'drop table labels;'),
      '1764000000011_rename.sql': sqlFile('alter table labels rename to tags;\nalter table tags rename column txt to label;\nalter table tags rename constraint labels_txt_len to tags_label_len;', 'alter table tags rename to labels;'),
    })
    const db = await adoptedDb()
    psql('create table tags (id int primary key, label text, constraint tags_label_len check (char_length(label) < 9))', db)
    const r = await migrate(db, ['baseline', '--json'], { dir })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).baselined.at(-1).objects).toEqual(expect.arrayContaining([{ kind: 'table', name: 'tags' }, { kind: 'constraint', name: 'tags_label_len on tags' }]))
  })
})

describe('migrate redo, interrupted', () => {
  it('Ctrl-C in the up half takes the down half back too: exit 130, the rows and the journal as before', async () => {
    const TAGS = '1764000000010_tags'
    const up = 'create table tags (id int primary key);\ninsert into tags select id from tag_seed;\nselect pg_sleep(case when exists (select 1 from tag_seed where id = 42) then 30 else 0 end);'
    const dir = migrationsDir({ [`${TAGS}.sql`]: sqlFile(up, 'drop table tags;') })
    const db = freshDb('redo')
    psql('create table tag_seed (id int); insert into tag_seed values (1)', db)
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    psql('insert into tags values (99); insert into tag_seed values (42)', db)
    const run = startMigrate(db, ['redo', '--yes'], { dir })
    await waitFor(() => sleeping(db) === 1, { what: 'the up half to sleep in pg_sleep(30)' })
    run.kill('SIGINT')
    const r = await run.result
    expect(r.code, r.stderr).toBe(130)
    expect(psql('select string_agg(id::text, \',\' order by id) from tags', db)).toBe('1,99')
    expect(journal(db).map((j) => j.name)).toEqual([...SCHEMA_NAMES, TAGS])
    await waitFor(() => leftovers(db).advisoryLocks === 0 && leftovers(db).openTransactions === 0 || undefined, { what: 'the session to end' })
  })
})
