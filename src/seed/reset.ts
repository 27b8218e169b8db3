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

/**
 * Empties the three tables; returns how many rows each had. Tables of the app that reference them
 * would have to be emptied too (TRUNCATE refuses otherwise): only with --cascade, named first.
 */
export async function reset(step: Step, tx: Sql, plan: SeedPlan): Promise<{ had: Record<Table, number>; cascaded: Emptied[] }> {
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
  const listed = cascaded.map((t) => `${t.table} (${plural(t.rows, 'row')})`).join(', ')
  if (cascaded.length > 0 && !plan.cascade) {
    throw failed(`--reset would also have to empty ${listed}, which refer to users, categories or todos; nothing was changed`, {
      code: 'RESET_NEEDS_CASCADE',
      hint: 'pass --reset --cascade to empty those tables too',
      data: { referencing: cascaded },
    })
  }
  // TRUNCATE, not DELETE: instant, and transactional in PostgreSQL.
  await step(tx.unsafe(`truncate todos, categories, users${cascaded.length > 0 ? ' cascade' : ''}`))
  return { had, cascaded }
}
