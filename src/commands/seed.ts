import type { Context } from '../context.js'
import { parseDuration } from '../duration.js'
import { resolveSeedOptions, type SeedFlags } from '../seed/options.js'
import { startProgress } from '../seed/progress.js'
import { seedDatabase, type SeedResult, type TableChanges } from '../seed/seed.js'

export async function run(ctx: Context, flags: SeedFlags): Promise<number> {
  const options = resolveSeedOptions(flags, ctx.config.seed)
  const target = ctx.target()
  const lockTimeoutMs = parseDuration(ctx.config.timeouts.lock, 'timeouts.lock')
  const statementTimeoutMs = parseDuration(ctx.config.timeouts.statement, 'timeouts.statement')
  const progress = await startProgress(ctx.out, 'seeding:')
  let result: SeedResult
  try {
    result = await seedDatabase({
      target,
      deadline: ctx.connectDeadline(),
      signal: ctx.signal,
      out: ctx.out,
      lockTimeoutMs,
      statementTimeoutMs,
      onProgress: (rows, checking) => progress.update(rows, checking),
    }, options)
  } catch (e) {
    progress.fail()
    throw e
  }
  progress.stop()
  ctx.out.result({ ok: true, ...result }, `seeded ${result.users} users, ${result.categories} categories, ${result.todos} todos ` +
    `(seed ${options.seed}, day ${result.today}${options.reset ? ', after reset' : ''}${emptiedToo(result)}) in ${result.ms} ms, ${result.rowsPerSecond} rows/s; ` +
    Object.entries(result.changes).map(([table, c]) => `${table}: ${describe(c)}`).join('; '))
  return 0
}

/** Tables --reset --cascade emptied besides the seed's. */
const emptiedToo = (r: SeedResult) =>
  r.cascaded?.length ? `, which also emptied ${r.cascaded.map((t) => `${t.table} (${t.rows} rows)`).join(', ')}` : ''

/** "3 inserted, 1 updated, 296 unchanged": the counts that are not zero, or "none". */
function describe(c: TableChanges): string {
  const parts = (['inserted', 'updated', 'deleted', 'unchanged'] as const).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`)
  return parts.length > 0 ? parts.join(', ') : 'none'
}
