// --reset: empty users, categories and todos, and with --cascade the app's tables that refer to them.
import { failed } from '../errors.js'
import type { Sql } from '../db/connection.js'
import { TRUNCATE_REACH_SQL, type Table } from './ownership.js'
import type { SeedPlan } from './plan.js'
import { plural, type Step } from './step.js'

export interface Emptied {
  table: string
  rows: number
}

export interface ResetReach {
  /** Rows of the seed's three tables. */
  had: Record<Table, number>
  /** The app's tables that refer to them (TRUNCATE ... CASCADE would empty them too), with their rows. */
  cascaded: Emptied[]
}

/** What --reset would empty: counted for the confirmation, and again in the seed's transaction. */
export async function resetReach(step: Step, tx: Sql): Promise<ResetReach> {
  const [had] = await step<Record<Table, number>[]>(tx`
    select (select count(*)::int from users) as users, (select count(*)::int from categories) as categories,
           (select count(*)::int from todos) as todos`)
  const others = await step<{ table: string }[]>(tx.unsafe(TRUNCATE_REACH_SQL))
  const cascaded: Emptied[] = []
  for (const { table } of others) {
    // the name comes quoted from regclass::text
    const [{ n }] = await step<{ n: number }[]>(tx.unsafe(`select count(*)::int as n from ${table}`))
    cascaded.push({ table, rows: n })
  }
  return { had, cascaded }
}

/** "users (5 rows)", one per table, the seed's three first. */
export const describeReach = (r: ResetReach): string[] =>
  [...Object.entries(r.had).map(([table, rows]) => ({ table, rows })), ...r.cascaded].map((t) => `${t.table} (${plural(t.rows, 'row')})`)

/** Tables of the app that reference the three must be named and asked for (--cascade), never emptied silently. */
export function refuseWithoutCascade(r: ResetReach, plan: Pick<SeedPlan, 'cascade'>): void {
  if (r.cascaded.length === 0 || plan.cascade) return
  const listed = r.cascaded.map((t) => `${t.table} (${plural(t.rows, 'row')})`).join(', ')
  throw failed(`--reset would also have to empty ${listed}, which refer to users, categories or todos; nothing was changed`, {
    code: 'RESET_NEEDS_CASCADE',
    hint: 'pass --reset --cascade to empty those tables too',
    data: { referencing: r.cascaded },
  })
}

/**
 * Empties the three tables; returns how many rows each had. Tables of the app that reference them
 * would have to be emptied too (TRUNCATE refuses otherwise): only with --cascade, named first.
 */
export async function reset(step: Step, tx: Sql, plan: SeedPlan): Promise<ResetReach> {
  const reach = await resetReach(step, tx)
  refuseWithoutCascade(reach, plan)
  // TRUNCATE, not DELETE: instant, and transactional in PostgreSQL.
  await step(tx.unsafe(`truncate todos, categories, users${reach.cascaded.length > 0 ? ' cascade' : ''}`))
  return reach
}
