import type { Context } from '../context.js'
import { parseDuration } from '../duration.js'
import { resolveSeedOptions, type SeedFlags } from '../seed/options.js'
import { startProgress } from '../seed/progress.js'
import { seedDatabase, type SeedResult } from '../seed/seed.js'

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
  ctx.out.result(result, `seeded ${result.users} users, ${result.categories} categories, ${result.todos} todos ` +
    `(seed ${options.seed}${options.reset ? ', after reset' : ''}) in ${result.ms} ms, ${result.rowsPerSecond} rows/s`)
  return 0
}
