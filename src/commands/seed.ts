import type { Context } from '../context.js'
import { parseDuration } from '../duration.js'
import { ExitCode } from '../errors.js'
import { resolveSeedOptions, type SeedFlags } from '../seed/options.js'
import { startProgress } from '../seed/progress.js'
import { seedDatabase, type SeedResult, type TableChanges } from '../seed/seed.js'

export async function run(ctx: Context, flags: SeedFlags & { timeout?: string }): Promise<number> {
  ctx.useTimeoutFlag(flags.timeout)
  const options = resolveSeedOptions(flags, ctx.config.seed)
  // One transaction works through a pooler, but DATABASE_URL_UNPOOLED, when set, is the direct way.
  const target = ctx.target({ session: 'prefer' })
  const lockTimeoutMs = parseDuration(ctx.config.timeouts.lock, 'timeouts.lock')
  const statementTimeoutMs = parseDuration(ctx.config.timeouts.statement, 'timeouts.statement')
  const progress = await startProgress(ctx.out, 'seeding:')
  let result: SeedResult
  try {
    result = await seedDatabase({
      target,
      ...ctx.connectOptions(),
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
  return ExitCode.OK
}

/** Tables --reset --cascade emptied besides the seed's. */
const emptiedToo = (r: SeedResult) =>
  r.cascaded?.length ? `, which also emptied ${r.cascaded.map((t) => `${t.table} (${t.rows} rows)`).join(', ')}` : ''

/** "3 inserted, 1 updated, 296 unchanged": the counts that are not zero, or "none". */
function describe(c: TableChanges): string {
  const parts = (['inserted', 'updated', 'deleted', 'unchanged'] as const).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`)
  return parts.length > 0 ? parts.join(', ') : 'none'
}
