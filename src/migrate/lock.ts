// The migration lock: one session-level advisory lock per database, so that concurrent
// `migrate` runs (deploys, CI jobs) apply each migration once. It needs a direct session:
// through a transaction-mode pooler the lock would stay on a server connection we no longer own.
import { backoff, sleep } from '../duration.js'
import { ExitCode, TodoDbError, interrupted } from '../errors.js'
import type { Queryable } from './journal.js'

/**
 * node-pg-migrate's own lock id: its CLI and todo-db exclude each other on the same database.
 * Hard-coded so that taking the lock does not need the runner module loaded.
 */
export const MIGRATION_LOCK_ID = 7241865325823964n

const holderQuery = (sql: Queryable) => sql<{ pid: number; application_name: string }[]>`
  select l.pid, coalesce(a.application_name, '') as application_name
  from pg_locks l left join pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database())
    and ((l.classid::bigint << 32) | l.objid::bigint) = ${MIGRATION_LOCK_ID.toString()}::bigint`

export interface LockWait {
  /** Give up after this long (0: wait until the signal aborts). */
  waitMs: number
  signal: AbortSignal
  onWait?: (holder: string) => void
}

/**
 * Polls pg_try_advisory_lock rather than blocking in pg_advisory_lock: an abort (Ctrl-C) then
 * needs no query cancel, and the error can name the session that holds the lock.
 */
export async function acquireMigrationLock(sql: Queryable, wait: LockWait): Promise<void> {
  const started = Date.now()
  let told = false
  for (let attempt = 0; ; attempt++) {
    const [{ ok }] = await sql<{ ok: boolean }[]>`select pg_try_advisory_lock(${MIGRATION_LOCK_ID.toString()}::bigint) as ok`
    if (ok) return
    if (wait.signal.aborted) throw interrupted(wait.signal.reason, 'nothing was changed')
    const waited = Date.now() - started
    if (!told || (wait.waitMs > 0 && waited >= wait.waitMs)) {
      const [holder] = await holderQuery(sql)
      const who = holder ? `pid ${holder.pid}${holder.application_name ? `, ${holder.application_name}` : ''}` : 'another session'
      if (wait.waitMs > 0 && waited >= wait.waitMs) {
        throw new TodoDbError(`another migration run (${who}) held the migration lock for more than ${wait.waitMs} ms`, {
          code: 'LOCK_TIMEOUT',
          exitCode: ExitCode.FAILED,
          hint: 'let it finish and retry, or raise timeouts.lock / --lock-timeout',
        })
      }
      wait.onWait?.(who)
      told = true
    }
    await sleep(backoff(attempt, 20, 250))
  }
}

/**
 * One attempt, no waiting: whether this session now holds the migration lock. A constant text
 * without parameters: postgres.js describes a parameterised statement first, a round trip more,
 * and would hold the queries pipelined behind it.
 */
export async function tryMigrationLock(sql: Queryable): Promise<boolean> {
  const [{ ok }] = await sql.unsafe<{ ok: boolean }[]>(`select pg_try_advisory_lock(${MIGRATION_LOCK_ID}) as ok`)
  return ok
}

export async function releaseMigrationLock(sql: Queryable): Promise<void> {
  await sql.unsafe(`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`)
}
