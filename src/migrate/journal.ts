// The migrations table: node-pg-migrate's own (id, name, run_on) plus a checksum column, so that
// its CLI and ours read the same history and we can tell when an applied file was edited, and a
// content column with the text that was applied, so that drift can say what the edit changed.
import type postgres from 'postgres'
import type { MigrationFile } from './files.js'

/** A tagged-template client: a postgres.js instance or one reserved connection of it. */
export type Queryable = postgres.Sql | postgres.ReservedSql

export interface AppliedMigration {
  name: string
  appliedAt: Date
  /** null: applied before checksums were recorded (by node-pg-migrate alone, or an older todo-db). */
  checksum: string | null
  /** Whether the applied text is kept (content column); read only when drift needs it. */
  hasText: boolean
}

/**
 * The text to keep of a file: all of it, unless it is too big to keep in every run's journal row
 * (a data migration) or holds a NUL, which a text column cannot.
 */
const MAX_KEPT_TEXT = 1024 * 1024
export function textToKeep(file: MigrationFile): string | null {
  return file.content.length > MAX_KEPT_TEXT || file.content.includes('\0') ? null : file.content
}

// node-pg-migrate puts its table in "public" unless told otherwise; so do we.
export const JOURNAL_SCHEMA = 'public'

/**
 * Creates the table (node-pg-migrate's shape) and our columns when missing. Run under the lock.
 * `shape`: what readJournalWithShape just saw under the same lock, to spare the round trips.
 */
export async function ensureJournal(sql: Queryable, table: string, shape?: JournalShape): Promise<void> {
  if (shape?.exists && shape.hasChecksum && shape.hasText) return
  if (shape && !shape.exists) {
    await sql`create table if not exists ${sql(JOURNAL_SCHEMA)}.${sql(table)} (
      id serial primary key, name varchar(255) not null, run_on timestamp not null, checksum text, content text)`
    return
  }
  await sql`create table if not exists ${sql(JOURNAL_SCHEMA)}.${sql(table)} (
    id serial primary key, name varchar(255) not null, run_on timestamp not null)`
  // ALTER TABLE takes an exclusive lock even when the column exists: only when one is missing.
  const now = await journalShape(sql, table)
  if (!now.hasChecksum || !now.hasText) {
    await sql`alter table ${sql(JOURNAL_SCHEMA)}.${sql(table)} add column if not exists checksum text, add column if not exists content text`
  }
}

export interface JournalShape {
  exists: boolean
  hasChecksum: boolean
  hasText: boolean
}

/**
 * Whether the table and our columns exist, in one round trip. From the catalog directly:
 * information_schema.columns took 5 ms to plan, three times in every `migrate up`.
 */
async function journalShape(sql: Queryable, table: string): Promise<JournalShape> {
  // Inline, not a parameter: see rowsSql. The name is a plain identifier (settings.ts checks it).
  const name = `'"${JOURNAL_SCHEMA}"."${table}"'`
  const column = (c: string) =>
    `exists (select 1 from pg_attribute where attrelid = to_regclass(${name}) and attname = '${c}' and not attisdropped)`
  const [shape] = await sql.unsafe<JournalShape[]>(`
    select to_regclass(${name}) is not null as exists, ${column('checksum')} as "hasChecksum", ${column('content')} as "hasText"`)
  return shape
}

/**
 * The journal's rows, as text without parameters: postgres.js describes a parameterised
 * statement before running it, a round trip more, and holds what is pipelined behind it.
 */
const rowsSql = (table: string, shape: Omit<JournalShape, 'exists'>) =>
  `select name, run_on::timestamptz as run_on, ${shape.hasChecksum ? 'checksum' : 'null::text as checksum'},
          ${shape.hasText ? 'content is not null' : 'false'} as has_text
   from "${JOURNAL_SCHEMA}"."${table}" order by run_on, id`

/** Applied migrations in the order they ran; empty when the table does not exist yet. */
export async function readJournal(sql: Queryable, table: string): Promise<AppliedMigration[]> {
  return (await readJournalWithShape(sql, table)).applied
}

/**
 * The journal and the table's shape in one round trip: the rows are asked for at once, with our
 * columns, pipelined behind the shape, and that answer is used when the shape says the question
 * was right (a missing table or column fails it, harmlessly: no transaction is open).
 */
export async function readJournalWithShape(sql: Queryable, table: string): Promise<{ applied: AppliedMigration[] } & JournalShape> {
  type Row = { name: string; run_on: Date; checksum: string | null; has_text: boolean }
  const rows = (shape: Omit<JournalShape, 'exists'>) => sql.unsafe<Row[]>(rowsSql(table, shape))
  const shape = journalShape(sql, table)
  const guess = rows({ hasChecksum: true, hasText: true }).then((r) => r, () => undefined)
  const got = await shape
  const found = await guess
  if (!got.exists) return { applied: [], ...got }
  const list = got.hasChecksum && got.hasText && found ? found : await rows(got)
  return { applied: list.map((r) => ({ name: r.name, appliedAt: r.run_on, checksum: r.checksum, hasText: r.has_text })), ...got }
}

/**
 * Records the checksum and text of files applied before they were kept, in one statement. The
 * rows go as one JSON parameter: the connection does not fetch array types (connection.ts).
 */
export async function recordFiles(sql: Queryable, table: string, files: MigrationFile[]): Promise<void> {
  if (files.length === 0) return
  const rows = JSON.stringify(files.map((f) => ({ name: f.name, checksum: f.checksum, content: textToKeep(f) })))
  await sql`
    update ${sql(JOURNAL_SCHEMA)}.${sql(table)} as j set checksum = f.checksum, content = f.content
    from jsonb_to_recordset(${rows}::text::jsonb) as f(name text, checksum text, content text)
    where j.name = f.name`
}

/** The applied text of these migrations (null where it was not kept). Needs the content column. */
export async function readAppliedTexts(sql: Queryable, table: string, names: string[]): Promise<Map<string, string | null>> {
  if (names.length === 0) return new Map()
  const rows = await sql<{ name: string; content: string | null }[]>`
    select name, content from ${sql(JOURNAL_SCHEMA)}.${sql(table)}
    where name in (select jsonb_array_elements_text(${JSON.stringify(names)}::text::jsonb))`
  return new Map(rows.map((r) => [r.name, r.content]))
}

/**
 * node-pg-migrate marks a migration as run (or reverted) with these statements, inside the
 * migration's own transaction, splicing the name into a quoted literal: a file named "it's.sql"
 * makes them invalid SQL. We send in their place the same statement with the name (and, for an
 * INSERT, the checksum and text) as parameters: "applied" and "checksum recorded" stay one atomic
 * fact, and any name works. We recognise them by their exact text for the names we run; if a future
 * version words them differently, nothing matches, they run as they are, and run.ts records the
 * checksum after the run (backfillChecksums).
 */
export function journalStatements(table: string, files: Iterable<MigrationFile>): Map<string, { text: string; values: (string | null)[] }> {
  const t = `"${JOURNAL_SCHEMA}"."${table}"`
  const byText = new Map<string, { text: string; values: (string | null)[] }>()
  for (const file of files) {
    const name = file.name
    byText.set(`INSERT INTO ${t} (name, run_on) VALUES ('${name}', NOW());`,
      { text: `INSERT INTO ${t} (name, run_on, checksum, content) VALUES ($1, NOW(), $2, $3)`, values: [name, file.checksum, textToKeep(file)] })
    byText.set(`DELETE FROM ${t} WHERE name='${name}';`, { text: `DELETE FROM ${t} WHERE name = $1`, values: [name] })
  }
  return byText
}
