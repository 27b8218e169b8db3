// Where migrations live and how long they may wait: flags over the config file over defaults.
import { existsSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { sourceName } from '../config.js'
import type { Context } from '../context.js'
import { parseDuration } from '../duration.js'
import { badInput } from '../errors.js'
import { PACKAGE_ROOT } from '../package-root.js'

export interface MigrateSettings {
  dir: string
  table: string
  lockTimeoutMs: number
  statementTimeoutMs: number
}

export interface MigrateFlags {
  migrationsDir?: string
  migrationsTable?: string
  lockTimeout?: string
}

/** The migrations folder, absolute: --migrations-dir, else the config's migrationsDir. */
export function migrationsDirOf(ctx: Context, flags: MigrateFlags): string {
  const s = ctx.setting('migrationsDir', { name: '--migrations-dir', value: flags.migrationsDir })
  const dir = String(s.value)
  // "" would resolve to the current folder: every applied migration would look missing (drift).
  if (dir.trim() === '') throw badInput(`${sourceName(s.source)} is empty`, 'name the migrations folder', 'EMPTY_VALUE')
  return isAbsolute(dir) ? dir : resolve(ctx.cwd, dir)
}

/** The todo schema that ships with todo-db. */
export const BUNDLED_MIGRATIONS = join(PACKAGE_ROOT, 'migrations')

/**
 * The folder to apply from. A project that never chose one (no flag, variable or config file) and has no
 * ./migrations gets the todo schema that ships with todo-db, so `npx todo-db migrate up` works
 * on a fresh dev branch with nothing set up; `todo-db init` copies it into the project.
 */
function applyDirOf(ctx: Context, flags: MigrateFlags): string {
  const dir = migrationsDirOf(ctx, flags)
  if (usesBundledSchema(ctx, flags)) {
    ctx.out.debug(`no ${dir}: using the todo schema that ships with todo-db (${BUNDLED_MIGRATIONS})`)
    return BUNDLED_MIGRATIONS
  }
  return dir
}

/** Whether up/down/status here apply the bundled schema: no folder chosen, and no ./migrations. */
function usesBundledSchema(ctx: Context, flags: MigrateFlags): boolean {
  return flags.migrationsDir === undefined && !ctx.configPath && !ctx.env.TODO_DB_MIGRATIONS_DIR &&
    !existsSync(migrationsDirOf(ctx, flags)) && existsSync(BUNDLED_MIGRATIONS)
}

/**
 * The folder `migrate create` writes to. Where up and status use the bundled schema, a new
 * ./migrations holding only the new file would hide that schema (status: 3 migrations MISSING):
 * the project must get its copy first.
 */
export function createDirOf(ctx: Context, flags: MigrateFlags): string {
  const dir = migrationsDirOf(ctx, flags)
  if (usesBundledSchema(ctx, flags)) {
    throw badInput(`there is no migrations folder here (${dir}), and up/status use the todo schema that ships with todo-db`,
      'run todo-db init first: it copies that schema into ./migrations, where new migrations go', 'NO_MIGRATIONS_DIR')
  }
  return dir
}

export function migrateSettings(ctx: Context, flags: MigrateFlags): MigrateSettings {
  const t = ctx.setting('migrationsTable', { name: '--migrations-table', value: flags.migrationsTable })
  const table = String(t.value)
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) {
    throw badInput(`${sourceName(t.source)}: migrations table "${table}" is not a plain table name`, 'use letters, digits and _', 'BAD_TABLE_NAME')
  }
  const lock = ctx.setting('timeouts.lock', { name: '--lock-timeout', value: flags.lockTimeout })
  const statement = ctx.setting('timeouts.statement')
  return {
    dir: applyDirOf(ctx, flags),
    table,
    lockTimeoutMs: parseDuration(lock.value, sourceName(lock.source)),
    statementTimeoutMs: parseDuration(statement.value, sourceName(statement.source)),
  }
}
