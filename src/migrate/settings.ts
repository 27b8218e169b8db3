// Where migrations live and how long they may wait: flags over the config file over defaults.
import { existsSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { sourceName, type Setting } from '../config.js'
import { parseDuration } from '../duration.js'
import { badInput } from '../errors.js'
import type { Output } from '../output.js'
import { PACKAGE_ROOT } from '../package-root.js'

export interface MigrateSettings {
  dir: string
  table: string
  lockTimeoutMs: number
  statementTimeoutMs: number
}

/** The settings as given, each with where it came from so a bad one is named as the user wrote it. */
export interface SettingsInput {
  cwd: string
  migrationsDir: Setting<string | number>
  /** false: no flag, variable or config file named the folder, so a missing one means the bundled schema. */
  dirChosen: boolean
  migrationsTable: Setting<string | number>
  lockTimeout: Setting<string | number>
  statementTimeout: Setting<string | number>
  out: Output
}

type DirInput = Pick<SettingsInput, 'cwd' | 'migrationsDir' | 'dirChosen'>

/** The migrations folder, absolute. */
export function migrationsDirOf(s: Pick<SettingsInput, 'cwd' | 'migrationsDir'>): string {
  const dir = String(s.migrationsDir.value)
  // "" would resolve to the current folder: every applied migration would look missing (drift).
  if (dir.trim() === '') throw badInput(`${sourceName(s.migrationsDir.source)} is empty`, 'name the migrations folder', 'EMPTY_VALUE')
  return isAbsolute(dir) ? dir : resolve(s.cwd, dir)
}

/** The todo schema that ships with todo-db. */
export const BUNDLED_MIGRATIONS = join(PACKAGE_ROOT, 'migrations')

/**
 * The folder to apply from. A project that never chose one (no flag, variable or config file) and has no
 * ./migrations gets the todo schema that ships with todo-db, so `npx todo-db migrate up` works
 * on a fresh dev branch with nothing set up; `todo-db init` copies it into the project.
 */
function applyDirOf(s: SettingsInput): string {
  const dir = migrationsDirOf(s)
  if (usesBundledSchema(s)) {
    s.out.debug(`no ${dir}: using the todo schema that ships with todo-db (${BUNDLED_MIGRATIONS})`)
    return BUNDLED_MIGRATIONS
  }
  return dir
}

/** Whether up/down/status here apply the bundled schema: no folder chosen, and no ./migrations. */
function usesBundledSchema(s: DirInput): boolean {
  return !s.dirChosen && !existsSync(migrationsDirOf(s)) && existsSync(BUNDLED_MIGRATIONS)
}

/**
 * The folder `migrate create` writes to. Where up and status use the bundled schema, a new
 * ./migrations holding only the new file would hide that schema (status: 3 migrations MISSING):
 * the project must get its copy first.
 */
export function createDirOf(s: DirInput): string {
  const dir = migrationsDirOf(s)
  if (usesBundledSchema(s)) {
    throw badInput(`there is no migrations folder here (${dir}), and up/status use the todo schema that ships with todo-db`,
      'run todo-db init first: it copies that schema into ./migrations, where new migrations go', 'NO_MIGRATIONS_DIR')
  }
  return dir
}

export function migrateSettings(s: SettingsInput): MigrateSettings {
  const table = String(s.migrationsTable.value)
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) {
    throw badInput(`${sourceName(s.migrationsTable.source)}: migrations table "${table}" is not a plain table name`, 'use letters, digits and _', 'BAD_TABLE_NAME')
  }
  return {
    dir: applyDirOf(s),
    table,
    lockTimeoutMs: parseDuration(s.lockTimeout.value, sourceName(s.lockTimeout.source)),
    statementTimeoutMs: parseDuration(s.statementTimeout.value, sourceName(s.statementTimeout.source)),
  }
}
