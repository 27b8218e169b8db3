// What `seed --reset` would empty, read before anything changes: for the confirmation and --dry-run.
// Read-only and outside the seed's transaction, so no lock is held while a person decides; the
// seed counts again in its transaction and refuses there too if --cascade became necessary.
import type postgres from 'postgres'
import { withSql, type ConnectOptions } from '../db/connection.js'
import type { DbTarget } from '../db/url.js'
import { refuseWithoutCascade, resetReach, type ResetReach } from './reset.js'
import { assertMigrated } from './schema.js'
import type { Step } from './step.js'

export async function previewReset(
  input: { target: DbTarget; connect: Omit<ConnectOptions, 'max' | 'applicationName'>; statementTimeoutMs: number; lockTimeoutMs: number },
  plan: { cascade: boolean },
): Promise<ResetReach> {
  const opts: ConnectOptions = { ...input.connect, max: 1, applicationName: 'todo-db seed', statementTimeoutMs: input.statementTimeoutMs, lockTimeoutMs: input.lockTimeoutMs }
  return withSql(input.target, opts, async (sql) => {
    const step: Step = async <T>(q: postgres.PendingQuery<postgres.Row[]>) => (await q) as T
    await assertMigrated((text) => step(sql.unsafe(text)))
    const reach = await resetReach(step, sql)
    refuseWithoutCascade(reach, plan)
    return reach
  })
}
