// migrate up | down | status | create: flags in, one core call, result out.
import type { Context } from '../context.js'
import { ExitCode } from '../errors.js'
import { createMigration } from '../migrate/create.js'
import { formatDryRun, formatRun, formatStatus } from '../migrate/format.js'
import { driftError, parseSelection } from '../migrate/plan.js'
import { dryRun, runMigrations, type Direction } from '../migrate/run.js'
import { createDirOf, migrateSettings } from '../migrate/settings.js'
import { migrationStatus } from '../migrate/status.js'

type Opts = Record<string, any>

async function apply(ctx: Context, direction: Direction, opts: Opts, args: string[]): Promise<number> {
  const req = {
    direction,
    selection: parseSelection(args[0], opts),
    settings: migrateSettings(ctx, opts),
    singleTransaction: !!opts.singleTransaction,
  }
  if (opts.dryRun) {
    const r = await dryRun(ctx, req)
    ctx.out.result({ ok: true, ...r }, () => formatDryRun(r))
  } else {
    const r = await runMigrations(ctx, req)
    ctx.out.result({ ok: true, ...r }, () => formatRun(r))
  }
  return ExitCode.OK
}

export const up = (ctx: Context, opts: Opts, args: string[]) => apply(ctx, 'up', opts, args)
export const down = (ctx: Context, opts: Opts, args: string[]) => apply(ctx, 'down', opts, args)

export async function status(ctx: Context, opts: Opts): Promise<number> {
  const r = await migrationStatus(ctx, migrateSettings(ctx, opts))
  // Drift is a failure (exit 4): the document says so as every failure does, the report beside it.
  const failure = r.drift.length ? driftError(r.drift) : undefined
  const error = failure && { code: failure.code, message: failure.message, ...(failure.hint ? { hint: failure.hint } : {}) }
  ctx.out.result({ ok: !failure, ...r, ...(error ? { error } : {}) }, () => formatStatus(r, ctx.out.color))
  for (const d of r.drift) ctx.out.warn(`drift: ${d.message}`)
  if (r.drift.length) return ExitCode.DRIFT
  return opts.exitCode && r.pending > 0 ? ExitCode.PENDING : ExitCode.OK
}

export async function create(ctx: Context, opts: Opts, args: string[]): Promise<number> {
  const path = await createMigration(createDirOf(ctx, opts), args[0], { transaction: opts.transaction })
  ctx.out.result({ ok: true, path }, `created ${path}`)
  return ExitCode.OK
}
