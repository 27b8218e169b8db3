// migrate up | down | status | create: flags in, one core call, result out.
import { confirmDestruction } from '../confirm.js'
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
  const req = {
    direction,
    selection: parseSelection(args[0], opts),
    settings: migrateSettings(ctx, opts),
    singleTransaction: !!opts.singleTransaction,
    confirm: direction === 'down' ? revertsMany(ctx, opts, args) : undefined,
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

/**
 * Reverting more than one migration (a count above 1, --to, --all) drops what they made, data
 * included: ask first, or need --yes. The flags decide, not how many are applied today, so a
 * script behaves the same on every run.
 */
function revertsMany(ctx: Context, opts: Opts, args: string[]) {
  const many = opts.all || opts.to !== undefined || (args[0] !== undefined && Number(args[0]) > 1)
  if (!many) return undefined
  return (names: string[]) => confirmDestruction(ctx, { doing: `migrate down reverts ${names.length === 1 ? 'the migration' : `${names.length} migrations`}`, items: names, yes: opts.yes })
}

export const up = (ctx: Context, opts: Opts, args: string[]) => apply(ctx, 'up', opts, args)
export const down = (ctx: Context, opts: Opts, args: string[]) => apply(ctx, 'down', opts, args)

export async function status(ctx: Context, opts: Opts): Promise<number> {
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
