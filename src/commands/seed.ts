import { confirmDestruction } from '../confirm.js'
import type { Context } from '../context.js'
import { sourceName } from '../config.js'
import { parseDuration } from '../duration.js'
import { ExitCode, badInput } from '../errors.js'
import { resolveSeedOptions, SEED_KEYS, type SeedFlags, type SeedSettings } from '../seed/options.js'
import { previewReset } from '../seed/preview.js'
import { describeReach } from '../seed/reset.js'
import { startProgress } from '../seed/progress.js'
import { seedDatabase, type SeedResult, type TableChanges } from '../seed/seed.js'

export async function run(ctx: Context, flags: SeedFlags & { timeout?: string; dryRun?: boolean; yes?: boolean }): Promise<number> {
  ctx.useTimeoutFlag(flags.timeout)
  const counts = Object.fromEntries(SEED_KEYS.map((k) => [k, ctx.setting(`seed.${k}`, { name: `--${k}`, value: flags[k] })])) as SeedSettings
  const options = resolveSeedOptions(flags, counts)
  if (flags.dryRun && !options.reset) throw badInput('seed --dry-run shows what --reset would empty: add --reset', undefined, 'USAGE')
  // One transaction works through a pooler, but DATABASE_URL_UNPOOLED, when set, is the direct way.
  const target = ctx.target({ session: 'prefer' })
  const lockTimeoutMs = durationOf(ctx, 'timeouts.lock')
  const statementTimeoutMs = durationOf(ctx, 'timeouts.statement')
  if (options.reset) {
    // The same list for --dry-run, the question on a terminal, and the refusal without --yes.
    const reach = await previewReset({ target, connect: ctx.connectOptions(), statementTimeoutMs, lockTimeoutMs }, options)
    const items = describeReach(reach)
    const action = `seed --reset${options.cascade ? ' --cascade' : ''}`
    if (flags.dryRun) {
      ctx.out.result({ ok: true, dryRun: true, empties: [...Object.entries(reach.had).map(([table, rows]) => ({ table, rows })), ...reach.cascaded] },
        `${action} would empty: ${items.join(', ')} (dry run: nothing was changed)`)
      return 0
    }
    await confirmDestruction(ctx, { doing: `${action} empties`, items, yes: flags.yes })
  }
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

/** A timeout from the config or its variable; a bad one is named as the user wrote it. */
function durationOf(ctx: Context, key: 'timeouts.lock' | 'timeouts.statement'): number {
  const s = ctx.setting(key)
  return parseDuration(s.value, sourceName(s.source))
}
