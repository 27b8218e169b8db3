// migrate up | down | status | create: flags in, one core call, result out.
import type { Context } from '../context.js'
import { ExitCode } from '../errors.js'
import { createMigration } from '../migrate/create.js'
import { formatDryRun, formatRun, formatStatus } from '../migrate/format.js'
import { parseSelection } from '../migrate/plan.js'
import { dryRun, runMigrations, type Direction } from '../migrate/run.js'
import { migrateSettings, migrationsDirOf } from '../migrate/settings.js'
import { migrationStatus } from '../migrate/status.js'

type Opts = Record<string, any>

async function apply(ctx: Context, direction: Direction, opts: Opts, args: string[]): Promise<number> {
  ctx.useTimeoutFlag(opts.timeout)
  const req = {
    direction,
    selection: parseSelection(args[0], opts),
    settings: migrateSettings(ctx, opts),
    singleTransaction: !!opts.singleTransaction,
  }
  if (opts.dryRun) {
    const r = await dryRun(ctx, req)
    ctx.out.result(r, () => formatDryRun(r))
  } else {
    const r = await runMigrations(ctx, req)
    ctx.out.result(r, () => formatRun(r))
  }
  return ExitCode.OK
}

export const up = (ctx: Context, opts: Opts, args: string[]) => apply(ctx, 'up', opts, args)
export const down = (ctx: Context, opts: Opts, args: string[]) => apply(ctx, 'down', opts, args)

export async function status(ctx: Context, opts: Opts): Promise<number> {
  ctx.useTimeoutFlag(opts.timeout)
  const r = await migrationStatus(ctx, migrateSettings(ctx, opts))
  ctx.out.result(r, () => formatStatus(r, ctx.out.color))
  for (const d of r.drift) ctx.out.warn(`drift: ${d.message}`)
  return r.drift.length ? ExitCode.DRIFT : ExitCode.OK
}

export async function create(ctx: Context, opts: Opts, args: string[]): Promise<number> {
  const path = await createMigration(migrationsDirOf(ctx, opts), args[0], { transaction: opts.transaction })
  ctx.out.result({ path }, `created ${path}`)
  return ExitCode.OK
}
