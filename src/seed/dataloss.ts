// A run deletes seed rows (surplus ones, version-8 ones, every todo); rows of the app that depend
// on them must not go with them unnoticed.
import { failed } from '../errors.js'
import type { Sql } from '../db/connection.js'
import { FOREIGN_KEYS_SQL, dependentsSql, doomed, legacy, type ForeignKey } from './ownership.js'
import type { SeedPlan } from './plan.js'
import { plural, type Step } from './step.js'

const EFFECT: Record<string, string> = { c: 'would be deleted', n: 'would lose the reference (set null)', d: 'would lose the reference (set default)' }

/**
 * Deleting seed rows that rows of the app depend on would take those along (ON DELETE CASCADE),
 * change them (SET NULL) or fail on a foreign key: refuse, as Prisma does for a schema change
 * that loses data, unless --accept-data-loss says to go ahead. A key without an ON DELETE action
 * refuses the delete whatever we say: then no flag helps, and the refusal says so.
 */
export async function refuseDataLoss(step: Step, tx: Sql, plan: SeedPlan): Promise<void> {
  const keys = await step<ForeignKey[]>(tx.unsafe(FOREIGN_KEYS_SQL))
  const found: { table: string; rows: number; effect: string; of: string; blocks: boolean }[] = []
  for (const fk of keys) {
    const query = dependentsSql(plan.seed, fk)
    if (!query) continue
    const [{ n }] = await step<{ n: number }[]>(tx.unsafe(query))
    const effect = EFFECT[fk.onDelete]
    if (n > 0) found.push({ table: fk.child, rows: n, of: fk.parent, effect: effect ?? 'refuse the delete (no ON DELETE action)', blocks: !effect })
  }
  const blocked = found.some((f) => f.blocks)
  if (found.length === 0 || (plan.acceptDataLoss && !blocked)) return
  const total = found.reduce((sum, f) => sum + f.rows, 0)
  const [gone] = await step<{ users: number; categories: number; legacy: number }[]>(tx.unsafe(`
    select (select count(*)::int from users t where ${doomed(plan.seed, 'users', 't')}) as users,
           (select count(*)::int from categories t where ${doomed(plan.seed, 'categories', 't')}) as categories,
           (select count(*)::int from users t where ${legacy(plan.seed, 'users', 't')})
             + (select count(*)::int from categories t where ${legacy(plan.seed, 'categories', 't')}) as legacy`))
  const what = [plural(gone.users, 'user'), plural(gone.categories, 'category', 'categories')]
    .filter((x) => !x.startsWith('0 ')).concat(found.some((f) => f.of === 'todos') ? ['todos'] : []).join(' and ')
  // Why those rows go, so that the way to keep them is clear.
  const why = [
    gone.users + gone.categories > gone.legacy ? 'seed with as many --users/--categories as before to keep them' : '',
    gone.legacy > 0 ? `${plural(gone.legacy, 'row')} of them were seeded by an earlier todo-db (version-8 ids), which a re-seed replaces: move the app rows first` : '',
    found.some((f) => f.of === 'todos') ? 'a seed replaces all its todos on every run: move the app rows first' : '',
  ].filter(Boolean)
  throw failed(`seed ${plan.seed} would delete ${what} of its own that ${plural(total, 'row')} of the app ${total === 1 ? 'depends' : 'depend'} on ` +
    `(${found.map((f) => `${f.table}: ${f.rows} ${f.effect}`).join('; ')}); nothing was changed`, {
    code: 'SEED_DATA_LOSS',
    hint: [...why, blocked ? 'or delete those app rows first, or --reset --cascade' : 'or pass --accept-data-loss to let the app rows go too'].join('; '),
    data: { dependents: found },
  })
}
