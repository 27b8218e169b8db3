// The pure parts of migrate, without a server: planning, checksums, error positions, and the
// one place we depend on node-pg-migrate's exact SQL (the INSERT that marks a migration as run).
import { describe, expect, it } from 'vitest'
import { checksumOf, decodeMigration, lineAndColumn, sectionSql, type MigrationFile } from '../src/migrate/files.js'
import { positionInFile } from '../src/migrate/failure.js'
import { journalStatements } from '../src/migrate/journal.js'
import { inventory, parseCount, selectDown, selectUp } from '../src/migrate/plan.js'
import { SECRET_LINE, describeDifference, firstDifference } from '../src/migrate/drift.js'

const file = (name: string, content = `-- Up Migration\nselect '${name}';\n-- Down Migration\nselect 1;\n`): MigrationFile =>
  ({ name, path: `/m/${name}.sql`, content, checksum: checksumOf(content) })
const applied = (f: MigrationFile, checksum: string | null = f.checksum, hasText = true) => ({ name: f.name, appliedAt: new Date(0), checksum, hasText })

describe('node-pg-migrate compatibility', () => {
  it("its journal INSERT and DELETE are recognised by their exact text, and sent with the name as a parameter", async () => {
    const { Migration } = await import('node-pg-migrate/migration')
    const [up, down] = [() => {}, () => {}]
    const name = "1764000000000_it's"
    const m = new Migration(null as never, `/m/${name}.sql`, { up, down }, { migrationsTable: 'pgmigrations' } as never, {}, { info() {}, warn() {}, error() {} } as never)
    const mark = (a: unknown) => (m as unknown as { _getMarkAsRun(a: unknown): string })._getMarkAsRun(a)
    const f = { ...file(name), checksum: 'abc123' }
    const known = journalStatements('pgmigrations', [f])
    expect(known.get(mark(up))).toEqual({ text: 'INSERT INTO "public"."pgmigrations" (name, run_on, checksum, content) VALUES ($1, NOW(), $2, $3)', values: [name, 'abc123', f.content] })
    expect(known.get(mark(down))).toEqual({ text: 'DELETE FROM "public"."pgmigrations" WHERE name = $1', values: [name] })
    expect(known.get('DELETE FROM "public"."pgmigrations" WHERE name=\'x\';')).toBeUndefined()
  })

  it('sectionSql is what the runner sends, and positions map back to the file', async () => {
    const f = file('1_x', '-- a comment\n-- Up Migration\ncreate table t (id int);\nselect nope;\n\n-- Down Migration\ndrop table t;\n')
    const up = (await sectionSql(f, 'up'))!
    expect(up.startsWith('-- Up Migration')).toBe(true)
    const sent = up + ';' // the runner appends ";" to a section that lacks one
    expect(positionInFile(f, { text: sent, at: f.content.indexOf(up) }, sent.indexOf('nope') + 1)).toEqual({ line: 4, column: 8 })
    // the server counts characters: an emoji is one, not two UTF-16 units
    const e = file('3_e', "-- Up Migration\nselect '😀😀', nope;\n")
    const text = (await sectionSql(e, 'up'))!
    expect(positionInFile(e, { text, at: 0 }, Array.from(text.slice(0, text.indexOf('nope'))).length + 1)).toEqual({ line: 2, column: 14 })
    expect(await sectionSql(file('2_y', '-- Up Migration\nselect 1;\n'), 'down')).toBeUndefined()
  })
})

describe('checksums', () => {
  it('ignore CRLF line endings, nothing else', () => {
    expect(checksumOf('a\r\nb\n')).toBe(checksumOf('a\nb\n'))
    expect(checksumOf('a\nb\n')).not.toBe(checksumOf('a\nb \n'))
  })
  it('are over the bytes: CRLF -> LF only, and equal to the old digest of the decoded text', () => {
    const bytes = Buffer.from('-- é\r\nselect 1;\r\n', 'utf8')
    expect(checksumOf(bytes)).toBe(checksumOf('-- é\nselect 1;\n'))
    expect(checksumOf(Buffer.from('a\rb'))).not.toBe(checksumOf('a\nb'))
  })
  it.each([
    ['a\xe9b', 1, 1], ['ab\n\xe0A', 3, 2], ['ab\xf0\x9f\x98', 2, 1], ['\xef\xbb\xbfx\n\xff', 5, 2], ['\xed\xa0\x80', 0, 1],
  ])('decodeMigration refuses %j at byte offset %i (line %i)', (latin1, offset, line) => {
    expect(() => decodeMigration(Buffer.from(latin1, 'latin1'), 'f.sql')).toThrow(expect.objectContaining({
      exitCode: 3, message: expect.stringContaining(`at byte offset ${offset} (line ${line})`) }))
  })
  it('decodeMigration keeps a BOM, as readFile(utf8) did', () => {
    expect(decodeMigration(Buffer.from('\ufeffselect 1;'), 'f.sql')).toBe('\ufeffselect 1;')
  })
  it('lineAndColumn is 1-based', () => {
    expect(lineAndColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 })
    expect(lineAndColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 })
  })
})

describe('planning', () => {
  const [a, b, c, d] = ['1_a', '2_b', '3_c', '4_d'].map((n) => file(n))
  it('pending, drift (edited, missing, out of order) and unrecorded', () => {
    const inv = inventory([a, b, d], [applied(a), applied(file('2_b', 'edited')), applied(c, null)])
    expect(inv.pending.map((f) => f.name)).toEqual(['4_d'])
    expect(inv.drift.map((x) => [x.name, x.kind])).toEqual([['2_b', 'edited'], ['3_c', 'missing']])
    expect(inventory([a, b, c], [applied(a), applied(c)]).drift).toEqual([expect.objectContaining({ name: '2_b', kind: 'out_of_order' })])
    expect(inventory([a, b], [applied(a, null)]).unrecorded.map((u) => u.name)).toEqual(['1_a'])
    // a file that matches its checksum is what was applied: its text is kept at the next run
    expect(inventory([a, b], [applied(a), applied(b, b.checksum, false)]).textless.map((f) => f.name)).toEqual(['2_b'])
  })
  it('up: all, N, --to (name or file name)', () => {
    const inv = inventory([a, b, c, d], [applied(a)])
    expect(selectUp(inv, {}).map((f) => f.name)).toEqual(['2_b', '3_c', '4_d'])
    expect(selectUp(inv, { count: 2 }).map((f) => f.name)).toEqual(['2_b', '3_c'])
    expect(selectUp(inv, { to: '3_c.sql' }).map((f) => f.name)).toEqual(['2_b', '3_c'])
    expect(selectUp(inv, { to: '1_a' })).toEqual([])
    expect(() => selectUp(inv, { to: '9_z' })).toThrow(/unknown migration "9_z"/)
  })
  it('down: the last, N, --to (exclusive), --all, newest first', () => {
    const inv = inventory([a, b, c, d], [applied(a), applied(b), applied(c)])
    expect(selectDown(inv, {}).map((m) => m.name)).toEqual(['3_c'])
    expect(selectDown(inv, { count: 2 }).map((m) => m.name)).toEqual(['3_c', '2_b'])
    expect(selectDown(inv, { to: '1_a' }).map((m) => m.name)).toEqual(['3_c', '2_b'])
    expect(selectDown(inv, { all: true }).map((m) => m.name)).toEqual(['3_c', '2_b', '1_a'])
    expect(() => selectDown(inv, { to: '4_d' })).toThrow(/not applied/)
    expect(() => selectDown(inv, { count: 1, all: true })).toThrow(/give one of/)
  })
  it.each(['0', '-1', '1.5', 'x', ''])('count %j is bad input (exit 3)', (raw) => {
    expect(() => parseCount(raw)).toThrow(expect.objectContaining({ exitCode: 3 }))
  })
})

describe('pipelined messages (pipeline.ts)', async () => {
  const { GUARD, literal, pipelinePieces } = await import('../src/migrate/pipeline.js')
  const { sectionOf } = await import('../src/migrate/statements.js')
  const file = (name: string, up: string): MigrationFile => {
    const content = `-- Up Migration\n${up}\n-- Down Migration\n`
    return { name, path: `/m/${name}.sql`, content, checksum: checksumOf(content) } as MigrationFile
  }

  it('literal() reads back the same whatever standard_conforming_strings says', () => {
    expect(literal("it's a \\ name")).toBe("E'it''s a \\\\ name'")
  })

  it('every message after BEGIN starts with the guard; each file ends with its journal row and COMMIT; BEGIN', async () => {
    const files = [file('1_a', 'create table a (id int);\ncreate index on a (id);'), file("2_b's", 'create table b (id int);')]
    const plan = await Promise.all(files.map(async (f) => ({ file: f, section: (await sectionOf(f, 'up'))! })))
    const pieces = pipelinePieces({ direction: 'up', table: 'pgmigrations', singleTransaction: false, files: plan })
    expect(pieces[0].text).toBe('BEGIN;')
    for (const p of pieces.slice(1)) expect(p.text.startsWith(GUARD) && p.prefix === GUARD.length).toBe(true)
    expect(pieces.map((p) => p.text.slice(p.prefix ?? 0))).toEqual([
      'BEGIN;',
      'create table a (id int)',
      'create index on a (id)',
      `INSERT INTO "public"."pgmigrations" (name, run_on, checksum, content) VALUES (E'1_a', NOW(), E'${files[0].checksum}', ${literal(files[0].content)})`,
      'SET CONSTRAINTS ALL IMMEDIATE; COMMIT; BEGIN',
      'create table b (id int)',
      `INSERT INTO "public"."pgmigrations" (name, run_on, checksum, content) VALUES (E'2_b''s', NOW(), E'${files[1].checksum}', ${literal(files[1].content)})`,
      'SET CONSTRAINTS ALL IMMEDIATE; COMMIT',
    ])
    const single = pipelinePieces({ direction: 'down', table: 'pgmigrations', singleTransaction: true, files: plan })
    expect(single.filter((p) => p.commit).map((p) => p.migration)).toEqual(["2_b's"])
  })
})

describe('the first difference of an edited migration', () => {
  it('is the first line that differs, CRLF read as LF, with either side past the end as null', () => {
    expect(firstDifference('a\nb\nc\n', 'a\r\nb\r\nc\r\n')).toBeUndefined()
    expect(firstDifference('a\nb\nc\n', 'a\nB\nc\n')).toEqual({ line: 2, applied: 'b', now: 'B' })
    expect(firstDifference('a\n', 'a\nb\n')).toEqual({ line: 2, applied: '', now: 'b' })
    expect(firstDifference('a', 'a\nb')).toEqual({ line: 2, applied: null, now: 'b' })
    expect(firstDifference('a\nb', 'a')).toEqual({ line: 2, applied: 'b', now: null })
  })
  it('says it in one line, invisible characters escaped, long lines cut around the change', () => {
    expect(describeDifference({ line: 3, applied: 'create index i on t (a);', now: 'create index i on t (a, b);' }))
      .toBe('line 3 was "create index i on t (a);", now "create index i on t (a, b);"')
    expect(describeDifference({ line: 1, applied: 'select 1;', now: '\ufeffselect 1;\t' })).toBe('line 1 was "select 1;", now "\\ufeffselect 1;\\t"')
    expect(describeDifference({ line: 2, applied: null, now: 'x' })).toBe('line 2 was (end of file), now "x"')
    const long = `select ${'x, '.repeat(60)}y;`
    const said = describeDifference({ line: 9, applied: long, now: long.replace('y;', 'z;') })
    expect(said).toContain('y;"')
    expect(said).toContain('z;"')
    expect(said.length).toBeLessThan(200)
  })
  it('never shows a secret, also when its statement spans lines, and says when the changed line holds one', async () => {
    const { loadParser } = await import('../src/migrate/parser.js')
    await loadParser()
    const d = firstDifference("alter role app password 'hunter2';", "alter role app password 'hunter3';")!
    expect(JSON.stringify(d)).not.toMatch(/hunter/)
    expect(describeDifference(d)).toBe('line 1 changed; it holds a secret, so it is not shown')
    const split = firstDifference("alter role app\n  password\n  'hunter2';\nselect 1;", "alter role app\n  password\n  'hunter3';\nselect 1;")!
    expect(split).toEqual({ line: 3, applied: SECRET_LINE, now: SECRET_LINE })
    // a line without a secret is shown as it is
    expect(firstDifference("alter role app password 'p';\nselect 1;", "alter role app password 'p';\nselect 2;")).toEqual({ line: 2, applied: 'select 1;', now: 'select 2;' })
  })
})

describe('secrets in SQL as it is shown (mask.ts)', async () => {
  const { maskSql, shortStatement } = await import('../src/migrate/mask.js')
  const { loadParser } = await import('../src/migrate/parser.js')
  await loadParser()

  it.each([
    // after PASSWORD, in any case and quoting
    ["CREATE ROLE app LOGIN PASSWORD 'hunter2';", "CREATE ROLE app LOGIN PASSWORD '****';"],
    ["alter role x with encrypted password E'it\\'s\\x41' valid until 'infinity'", "alter role x with encrypted password '****' valid until 'infinity'"],
    ["ALTER USER x PaSsWoRd 'it''s'", "ALTER USER x PaSsWoRd '****'"],
    ['alter user x password $q1$a $$ b$q1$', "alter user x password '****'"],
    ["alter role x password U&'d!0061t' UESCAPE '!'", "alter role x password '****' UESCAPE '!'"],
    ["alter role x password 'a'\n  -- it's\n  'b'", "alter role x password '****'"],
    ["alter role x password /* it's */ 'p' -- it's", "alter role x password /* it's */ '****' -- it's"],
    // an option named so, plain or quoted; a boolean that only names it stays
    ["CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password 'p', password_required 'false')",
      "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password '****', password_required 'false')"],
    [`create user mapping for u server s options ("password" 'p', U&"p\\0061ssword" 'p')`, `create user mapping for u server s options ("password" '****', U&"p\\0061ssword" '****')`],
    ["select f(api_key => 'k'), set_config('app.token', 'x', false), secret::text from t", "select f(api_key => '****'), set_config('app.token', 'x', false), secret::text from t"],
    // inside other literals: a conninfo (quoted value, escapes), a URL, JSON, SQL run by EXECUTE
    ["select dblink_connect('host=h password=p dbname=d')", "select dblink_connect('host=h password=**** dbname=d')"],
    ["select dblink_connect('host=h password=''it\\''s'' dbname=d')", "select dblink_connect('host=h password=''****'' dbname=d')"],
    ["select dblink_connect(E'host=h pass\\167ord=p x=y')", "select dblink_connect(E'host=h password=**** x=y')"],
    ["select 'postgresql://u:p@h/db?sslmode=require'", "select 'postgresql://u:****@h/db?sslmode=require'"],
    ["select 'postgres://h/db?user=u&password=p'", "select 'postgres://h/db?user=u&password=****'"],
    ["select 'Server=h;UID=u;PWD=p'", "select 'Server=h;UID=u;PWD=****'"],
    ["copy t from program 'PGPASSWORD=p psql -c x'; set password_encryption = 'scram-sha-256'", "copy t from program 'PGPASSWORD=**** psql -c x'; set password_encryption = 'scram-sha-256'"],
    ["select 'host=h password=' -- split\n  'p'", "select 'host=h password=****'"],
    [`insert into t values ('{"api_key": "k", "n": 1}')`, `insert into t values ('{"api_key": "****", "n": 1}')`],
    ["do $$ begin execute 'alter role x password ''p'''; end $$", "do $$ begin execute 'alter role x password ''****'''; end $$"],
    // offsets are bytes for the scanner: text before the secret that is not ASCII
    ["select 'ünï😀'; alter role x password 'p'", "select 'ünï😀'; alter role x password '****'"],
    // nothing to mask: shown as written
    ["comment on column users.password_hash is 'bcrypt hash of the user''s password'", "comment on column users.password_hash is 'bcrypt hash of the user''s password'"],
  ])('%s', (sql, shown) => {
    expect(maskSql(sql)).toBe(shown)
  })

  it('text the scanner cannot read is not shown past the first word naming a secret', () => {
    expect(maskSql("alter role x password 'unterminated")).toBe("alter role x password **** (the rest is not shown: it is not SQL todo-db can read)")
    expect(maskSql("alter role x\0 password 'p'")).not.toMatch(/'p'/)
    expect(maskSql("select 'unterminated")).toBe("select 'unterminated")
  })

  it('shortStatement masks before it cuts', () => {
    expect(shortStatement(`alter role x password '${'p'.repeat(100)}'`)).toBe("alter role x password '****'")
  })
})
