// Shared by the migrate*.test.ts files: fresh databases, throwaway migration folders, and the
// built CLI run against them.
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { runCli, runInProcess, startCli, tempDir, type CliOptions } from './cli.js'
import { createDatabase, dbUrl, dropDatabase, psql } from './db.js'
import { MIGRATIONS_DIR } from './schema.js'

export const MIGRATIONS = MIGRATIONS_DIR
export const SCHEMA_FILES = readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).sort()
export const SCHEMA_NAMES = SCHEMA_FILES.map((f) => f.replace(/\.sql$/, ''))

const made: string[] = []
afterAll(() => {
  for (const db of made) dropDatabase(db)
})

/** A fresh empty database, dropped when the file's tests are done. */
export function freshDb(prefix = 'mig'): string {
  const db = createDatabase(prefix)
  made.push(db)
  return db
}

/** A temp folder with the project's migrations and `extra` files (name -> content) next to them. */
export function migrationsDir(extra: Record<string, string> = {}, withSchema = true): string {
  const dir = join(tempDir('todo-db-mig-'), 'migrations')
  mkdirSync(dir)
  if (withSchema) for (const f of SCHEMA_FILES) copyFileSync(join(MIGRATIONS, f), join(dir, f))
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), content)
  return dir
}

export const sqlFile = (up: string, down = '') => `-- Up Migration\n${up}\n\n-- Down Migration\n${down}\n`

/** `todo-db migrate ...args` against a database, with the project's migrations unless args name a folder. */
export function migrate(db: string, args: string[], opts: CliOptions & { dir?: string } = {}) {
  return runCli(...migrateCall(db, args, opts))
}

/** migrate() in this process (runInProcess): for bad input, refused before anything runs. */
export function migrateInProcess(db: string, args: string[], opts: CliOptions & { dir?: string } = {}) {
  return runInProcess(...migrateCall(db, args, opts))
}

/** migrate() for a run the test signals or watches while it runs. */
export function startMigrate(db: string, args: string[], opts: CliOptions & { dir?: string } = {}) {
  return startCli(...migrateCall(db, args, opts))
}

function migrateCall(db: string, args: string[], opts: CliOptions & { dir?: string }): [string[], CliOptions] {
  const { dir, ...rest } = opts
  return [['migrate', ...args, '--migrations-dir', dir ?? MIGRATIONS], { ...rest, env: { DATABASE_URL: dbUrl(db), ...opts.env } }]
}

export function journal(db: string): { name: string; checksum: string | null }[] {
  const exists = psql(`select to_regclass('public.pgmigrations') is not null`, db) === 't'
  if (!exists) return []
  const out = psql(`select name || '|' || coalesce(checksum, '') from pgmigrations order by id`, db)
  return out ? out.split('\n').map((l) => { const [name, sum] = l.split('|'); return { name, checksum: sum || null } }) : []
}

/** What the app's schema leaves in "public", besides the migrations table itself. */
export function publicObjects(db: string): { tables: string[]; functions: string[]; types: string[] } {
  const list = (sql: string) => psql(sql, db).split('\n').filter(Boolean)
  return {
    tables: list(`select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where nspname = 'public' and relname not like 'pgmigrations%' order by 1`),
    functions: list(`select proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace where nspname = 'public' order by 1`),
    types: list(`select typname from pg_type t join pg_namespace n on n.oid = t.typnamespace
      where nspname = 'public' and typname not like 'pgmigrations%' and typname not like '\\_pgmigrations%' order by 1`),
  }
}

/** Sessions that still hold an advisory lock or sit in an open transaction on db. */
export function leftovers(db: string): { advisoryLocks: number; openTransactions: number } {
  const [locks, tx] = psql(`select (select count(*) from pg_locks l join pg_database d on d.oid = l.database
      where l.locktype = 'advisory' and d.datname = '${db}'),
    (select count(*) from pg_stat_activity where datname = '${db}' and state like 'idle in transaction%')`, db).split('|')
  return { advisoryLocks: Number(locks), openTransactions: Number(tx) }
}

/**
 * Sessions on db sleeping in pg_sleep (the server is inside that statement, not still before it:
 * a file's statements may reach the server as one query text).
 */
export function sleeping(db: string): number {
  return Number(psql(`select count(*) from pg_stat_activity where datname = '${db}' and wait_event = 'PgSleep'`))
}

/** Other sessions on db whose query contains `text` (all other sessions without it). */
export function sessions(db: string, text = ''): number {
  return Number(psql(`select count(*) from pg_stat_activity where datname = '${db}' and pid <> pg_backend_pid()
    and query like '%${text.replace(/'/g, "''")}%'`))
}
