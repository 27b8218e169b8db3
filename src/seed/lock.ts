// One seed at a time per database.
import { failed } from '../errors.js'
import type { Output } from '../output.js'
import type { Sql } from '../db/connection.js'
import type { Step } from './step.js'

/**
 * Two seeds at once on one database deadlock (both alter an empty todos, see bulkload.ts) or clash
 * on the same ids. A transaction-level advisory lock serialises them: it is released by COMMIT or
 * ROLLBACK, even when the connection drops, and it works through a transaction-mode pooler (the
 * pooled URL seed uses), where a session-level lock would stay with a server connection someone
 * else gets next. Keys: 'todo' and 'seed' in ASCII, in the two-key space (node-pg-migrate uses the
 * one-bigint space). Taken before anything is read, so the later seed sees the earlier one's rows.
 */
export const SEED_LOCK = [0x746f646f, 0x73656564] as const

export async function oneSeedAtATime(step: Step, tx: Sql, lockTimeoutMs: number, out?: Output): Promise<void> {
  const [{ locked }] = await step<{ locked: boolean }[]>(tx`select pg_try_advisory_xact_lock(${SEED_LOCK[0]}, ${SEED_LOCK[1]}) as locked`)
  if (locked) return
  out?.debug('another todo-db seed is running on this database: waiting for it (timeouts.lock)')
  try {
    await step(tx`select pg_advisory_xact_lock(${SEED_LOCK[0]}, ${SEED_LOCK[1]})`)
  } catch (e) {
    if ((e as { code?: string })?.code !== '55P03') throw e
    throw failed(`another todo-db seed is running on this database and did not finish within timeouts.lock (${lockTimeoutMs} ms); nothing was changed`, {
      code: 'SEED_BUSY', hint: 'run it again when the other seed is done, or raise timeouts.lock', sqlState: '55P03',
    })
  }
}
