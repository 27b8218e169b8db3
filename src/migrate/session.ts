// A direct session holding the migration lock, for the commands that write the journal without
// going through runMigrations (baseline, accept, redo): one connection, the lock taken before
// anything is read, released (or the session closed, which releases it) whatever happens.
import type postgres from 'postgres'
import type { MigrateInput } from './input.js'
import { classifyError, isConnectionLost } from '../classify.js'
import { connect, isOpen, withinDeadline } from '../db/connection.js'
import type { DbTarget } from '../db/url.js'
import { Deadline } from '../duration.js'
import { acquireMigrationLock, releaseMigrationLock } from './lock.js'
import type { MigrateSettings } from './settings.js'

export interface LockedSession {
  conn: postgres.ReservedSql
  target: DbTarget
}

/** How migrate's sessions show in pg_stat_activity (and how a lost one is told from others). */
export const MIGRATE_APPLICATION_NAME = 'todo-db migrate'

/** The direct session migrate works in: one connection, its timeouts set after connecting. */
export function connectMigrateSession(ctx: MigrateInput, settings: MigrateSettings, target: DbTarget): Promise<postgres.Sql> {
  return connect(target, {
    ...ctx.connectOptions(),
    max: 1,
    lockTimeoutMs: settings.lockTimeoutMs,
    statementTimeoutMs: settings.statementTimeoutMs,
    applicationName: MIGRATE_APPLICATION_NAME,
  })
}

/** Waits for the migration lock (up to the lock timeout), saying who holds it. */
export function waitForMigrationLock(conn: postgres.ReservedSql, ctx: MigrateInput, settings: MigrateSettings): Promise<void> {
  return acquireMigrationLock(conn, {
    waitMs: settings.lockTimeoutMs,
    signal: ctx.signal,
    onWait: (who) => ctx.out.info(`waiting for the migration lock (held by ${who})`),
  })
}

/**
 * Releases the lock and the connection, and never hangs doing it: if the session cannot answer
 * within a few seconds we close it, and the server releases the lock and rolls back with it.
 */
export async function closeMigrateSession(sql: postgres.Sql, conn: postgres.ReservedSql | undefined, locked: boolean, ctx: MigrateInput): Promise<void> {
  try {
    // A stall or a signal may have closed the session: the server released the lock with it.
    if (conn && locked && isOpen(sql)) await withinDeadline(releaseMigrationLock(conn), new Deadline(5000))
  } catch (e) {
    ctx.out.debug(`could not release the migration lock (${(e as Error).message}); closing the session releases it`)
  } finally {
    conn?.release()
    await sql.end({ timeout: isOpen(sql) ? 1 : 0 }).catch(() => {})
  }
}

export async function withMigrationLock<T>(ctx: MigrateInput, settings: MigrateSettings, work: (s: LockedSession) => Promise<T>): Promise<T> {
  const target = ctx.target({ session: true })
  const sql = await connectMigrateSession(ctx, settings, target)
  let conn: postgres.ReservedSql | undefined
  let locked = false
  try {
    conn = await sql.reserve()
    await waitForMigrationLock(conn, ctx, settings)
    locked = true
    return await work({ conn, target })
  } catch (e) {
    if (isConnectionLost(e)) locked = false
    throw classifyError(e, target)
  } finally {
    await closeMigrateSession(sql, conn, locked, ctx)
  }
}
