// The migrations table: node-pg-migrate's own (id, name, run_on) plus a checksum column, so that
// its CLI and ours read the same history, and we can tell when an applied file was edited.
import type postgres from 'postgres'

/** A tagged-template client: a postgres.js instance or one reserved connection of it. */
export type Queryable = postgres.Sql | postgres.ReservedSql

export interface AppliedMigration {
  name: string
  appliedAt: Date
  /** null: applied before checksums were recorded (by node-pg-migrate alone, or an older todo-db). */
  checksum: string | null
}

// node-pg-migrate puts its table in "public" unless told otherwise; so do we.
export const JOURNAL_SCHEMA = 'public'

/**
 * Creates the table (node-pg-migrate's shape) and our checksum column when missing. Run under the
 * lock. `shape`: what readJournalWithShape just saw under the same lock, to spare the round trips.
 */
export async function ensureJournal(sql: Queryable, table: string, shape?: JournalShape): Promise<void> {
  if (shape?.exists && shape.hasChecksum) return
  if (shape && !shape.exists) {
    await sql`create table if not exists ${sql(JOURNAL_SCHEMA)}.${sql(table)} (
      id serial primary key, name varchar(255) not null, run_on timestamp not null, checksum text)`
    return
  }
  await sql`create table if not exists ${sql(JOURNAL_SCHEMA)}.${sql(table)} (
    id serial primary key, name varchar(255) not null, run_on timestamp not null)`
  // ALTER TABLE takes an exclusive lock even when the column exists: only when it is missing.
  if (!(await journalShape(sql, table)).hasChecksum) {
    await sql`alter table ${sql(JOURNAL_SCHEMA)}.${sql(table)} add column if not exists checksum text`
  }
}

export interface JournalShape {
  exists: boolean
  hasChecksum: boolean
}

/**
 * Whether the table and its checksum column exist, in one round trip. From the catalog directly:
 * information_schema.columns took 5 ms to plan, three times in every `migrate up`.
 */
async function journalShape(sql: Queryable, table: string): Promise<JournalShape> {
  // Inline, not a parameter: see rowsSql. The name is a plain identifier (settings.ts checks it).
  const name = `'"${JOURNAL_SCHEMA}"."${table}"'`
  const [shape] = await sql.unsafe<{ exists: boolean; hasChecksum: boolean }[]>(`
    select to_regclass(${name}) is not null as exists,
           exists (select 1 from pg_attribute
                   where attrelid = to_regclass(${name}) and attname = 'checksum' and not attisdropped) as "hasChecksum"`)
  return shape
}

/**
 * The journal's rows, as text without parameters: postgres.js describes a parameterised
 * statement before running it, a round trip more, and holds what is pipelined behind it.
 */
const rowsSql = (table: string, withChecksum: boolean) =>
  `select name, run_on::timestamptz as run_on, ${withChecksum ? 'checksum' : 'null::text as checksum'}
   from "${JOURNAL_SCHEMA}"."${table}" order by run_on, id`

/** Applied migrations in the order they ran; empty when the table does not exist yet. */
export async function readJournal(sql: Queryable, table: string): Promise<AppliedMigration[]> {
  return (await readJournalWithShape(sql, table)).applied
}

/**
 * The journal and the table's shape in one round trip: the rows are asked for at once, with the
 * checksum column, pipelined behind the shape, and that answer is used when the shape says the
 * question was right (a missing table or column fails it, harmlessly: no transaction is open).
 */
export async function readJournalWithShape(sql: Queryable, table: string): Promise<{ applied: AppliedMigration[] } & JournalShape> {
  const rows = (withChecksum: boolean) => sql.unsafe<{ name: string; run_on: Date; checksum: string | null }[]>(rowsSql(table, withChecksum))
  const shape = journalShape(sql, table)
  const guess = rows(true).then((r) => r, () => undefined)
  const { exists, hasChecksum } = await shape
  const found = await guess
  if (!exists) return { applied: [], exists, hasChecksum }
  const got = hasChecksum && found ? found : await rows(hasChecksum)
  return { applied: got.map((r) => ({ name: r.name, appliedAt: r.run_on, checksum: r.checksum })), exists, hasChecksum }
}

export async function recordChecksum(sql: Queryable, table: string, name: string, checksum: string): Promise<void> {
  await sql`update ${sql(JOURNAL_SCHEMA)}.${sql(table)} set checksum = ${checksum} where name = ${name}`
}

/**
 * node-pg-migrate marks a migration as run (or reverted) with these statements, inside the
 * migration's own transaction, splicing the name into a quoted literal: a file named "it's.sql"
 * makes them invalid SQL. We send in their place the same statement with the name (and, for an
 * INSERT, the checksum) as parameters: "applied" and "checksum recorded" stay one atomic fact,
 * and any name works. We recognise them by their exact text for the names we run; if a future
 * version words them differently, nothing matches, they run as they are, and run.ts records the
 * checksum after the run (backfillChecksums).
 */
export function journalStatements(table: string, names: Iterable<[name: string, checksum: string]>): Map<string, { text: string; values: string[] }> {
  const t = `"${JOURNAL_SCHEMA}"."${table}"`
  const byText = new Map<string, { text: string; values: string[] }>()
  for (const [name, checksum] of names) {
    byText.set(`INSERT INTO ${t} (name, run_on) VALUES ('${name}', NOW());`,
      { text: `INSERT INTO ${t} (name, run_on, checksum) VALUES ($1, NOW(), $2)`, values: [name, checksum] })
    byText.set(`DELETE FROM ${t} WHERE name='${name}';`, { text: `DELETE FROM ${t} WHERE name = $1`, values: [name] })
  }
  return byText
}
