// A run deletes seed rows (surplus ones, version-8 ones, and every todo when it copies them
// again); rows of the app that depend on them must not go with them unnoticed.
import { failed } from '../errors.js'
import type { Sql } from '../db/connection.js'
import { FOREIGN_KEYS_SQL, TABLES, dependentsSql, doomed, legacy, type ForeignKey, type Table, type TodoLoad } from './ownership.js'
import type { SeedPlan } from './plan.js'
import { plural, type Step } from './step.js'

const EFFECT: Record<string, string> = { c: 'would be deleted', n: 'would lose the reference (set null)', d: 'would lose the reference (set default)' }

/** Rows of one table of the app that depend on seed rows of one table this run deletes. */
export interface Dependents {
  table: string
  rows: number
  effect: string
  /** The seed's table they refer to. */
  of: string
  /** Its key has no ON DELETE action: the server refuses the delete, whatever we say. */
  blocks: boolean
}

/** Every foreign key that points at users, categories or todos (the app's own tables' included). */
export const foreignKeys = (step: Step, tx: Sql) => step<ForeignKey[]>(tx.unsafe(FOREIGN_KEYS_SQL))

/** The app's rows that depend on the seed rows this run deletes, per foreign key that has some. */
export async function dependents(step: Step, tx: Sql, seed: number, keys: readonly ForeignKey[], todos: TodoLoad): Promise<Dependents[]> {
  const found: Dependents[] = []
  for (const fk of keys) {
    const query = dependentsSql(seed, fk, todos)
    if (!query) continue
    const [{ n }] = await step<{ n: number }[]>(tx.unsafe(query))
    const effect = EFFECT[fk.onDelete]
    if (n > 0) found.push({ table: fk.child, rows: n, of: fk.parent, effect: effect ?? 'refuse the delete (no ON DELETE action)', blocks: !effect })
  }
  return found
}

const FLAG: Record<Table, string> = { users: '--users', categories: '--categories', todos: '--todos' }

/**
 * Deleting seed rows that rows of the app depend on would take those along (ON DELETE CASCADE),
 * change them (SET NULL) or fail on a foreign key: refuse, as Prisma does for a schema change
 * that loses data, unless --accept-data-loss says to go ahead. A key without an ON DELETE action
 * refuses the delete whatever we say: then no flag helps, and the refusal says so.
 */
export async function refuseDataLoss(step: Step, tx: Sql, plan: SeedPlan, found: readonly Dependents[], todos: TodoLoad): Promise<void> {
  const blocked = found.some((f) => f.blocks)
  if (found.length === 0 || (plan.acceptDataLoss && !blocked)) return
  const total = found.reduce((sum, f) => sum + f.rows, 0)
  // Todos copied again ('replace') never get here: app rows that refer to them make the run merge.
  const tables = (Object.keys(TABLES) as Table[]).filter((t) => t !== 'todos' || todos === 'merge')
  const [gone] = await step<Record<string, number>[]>(tx.unsafe(`select ${tables.map((t) => `
    (select count(*)::int from ${t} x where ${doomed(plan.seed, t, 'x', todos)}) as ${t},
    (select count(*)::int from ${t} x where ${legacy(plan.seed, t, 'x')}) as legacy_${t}`).join(',')}`))
  const names: Record<Table, [string, string]> = { users: ['user', 'users'], categories: ['category', 'categories'], todos: ['todo', 'todos'] }
  const counted = tables.filter((t) => gone[t] > 0).map((t) => plural(gone[t], ...names[t]))
  const what = counted.length > 1 ? `${counted.slice(0, -1).join(', ')} and ${counted.at(-1)}` : counted.join('')
  const legacyRows = tables.reduce((sum, t) => sum + gone[`legacy_${t}`], 0)
  // Why those rows go, so that the way to keep them is clear: the flags that made fewer of them.
  const fewer = tables.filter((t) => gone[t] > gone[`legacy_${t}`]).map((t) => FLAG[t])
  const why = [
    fewer.length > 0 ? `seed with as many ${fewer.join('/')} as before to keep them` : '',
    legacyRows > 0 ? `${plural(legacyRows, 'row')} of them were seeded by an earlier todo-db (version-8 ids), which a re-seed replaces: move the app rows first` : '',
  ].filter(Boolean)
  throw failed(`seed ${plan.seed} would delete ${what} of its own that ${plural(total, 'row')} of the app ${total === 1 ? 'depends' : 'depend'} on ` +
    `(${found.map((f) => `${f.table}: ${f.rows} ${f.effect}`).join('; ')}); nothing was changed`, {
    code: 'SEED_DATA_LOSS',
    hint: [...why, blocked ? 'or delete those app rows first, or --reset --cascade' : 'or pass --accept-data-loss to let the app rows go too'].join('; '),
    data: { dependents: found },
  })
}
