// Where migrations live and how long they may wait: flags over the config file over defaults.
import { isAbsolute, resolve } from 'node:path'
import type { Context } from '../context.js'
import { parseDuration } from '../duration.js'
import { badInput } from '../errors.js'

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
  const dir = flags.migrationsDir ?? ctx.config.migrationsDir
  return isAbsolute(dir) ? dir : resolve(ctx.cwd, dir)
}

export function migrateSettings(ctx: Context, flags: MigrateFlags): MigrateSettings {
  const table = flags.migrationsTable ?? ctx.config.migrationsTable
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) {
    throw badInput(`migrations table "${table}" is not a plain table name`, 'use letters, digits and _', 'BAD_TABLE_NAME')
  }
  return {
    dir: migrationsDirOf(ctx, flags),
    table,
    lockTimeoutMs: parseDuration(flags.lockTimeout ?? ctx.config.timeouts.lock, flags.lockTimeout ? '--lock-timeout' : 'timeouts.lock'),
    statementTimeoutMs: parseDuration(ctx.config.timeouts.statement, 'timeouts.statement'),
  }
}
