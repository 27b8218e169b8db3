// What `seed --reset` would empty, read before anything changes: for the confirmation and --dry-run.
// Read-only and outside the seed's transaction, so no lock is held while a person decides; the
// seed counts again in its transaction and refuses there too if --cascade became necessary.
import type postgres from 'postgres'
import { withSql } from '../db/connection.js'
import type { DbTarget } from '../db/url.js'
import type { Deadline } from '../duration.js'
import type { Output } from '../output.js'
import { refuseWithoutCascade, resetReach, type ResetReach } from './reset.js'
import { assertMigrated } from './schema.js'
import type { Step } from './step.js'

export async function previewReset(
  input: { target: DbTarget; deadline: Deadline; out?: Output; statementTimeoutMs: number; lockTimeoutMs: number },
  plan: { cascade: boolean },
): Promise<ResetReach> {
  const opts = { deadline: input.deadline, out: input.out, max: 1, applicationName: 'todo-db seed', statementTimeoutMs: input.statementTimeoutMs, lockTimeoutMs: input.lockTimeoutMs }
  return withSql(input.target, opts, async (sql) => {
    const step: Step = async <T>(q: postgres.PendingQuery<postgres.Row[]>) => (await q) as T
    await assertMigrated((text) => step(sql.unsafe(text)))
    const reach = await resetReach(step, sql)
    refuseWithoutCascade(reach, plan)
    return reach
  })
}
