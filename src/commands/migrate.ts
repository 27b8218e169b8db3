// migrate up | down | redo | status | baseline | accept | create: flags in, one core call, result out.
import { confirmDestruction } from '../confirm.js'
import type { Context } from '../context.js'
import { ExitCode } from '../errors.js'
import { acceptMigration } from '../migrate/accept.js'
import { describeDifference } from '../migrate/drift.js'
import { baseline as baselineMigrations } from '../migrate/baseline.js'
import { createMigration } from '../migrate/create.js'
import { redoDryRun, redoMigrations } from '../migrate/redo.js'
import { formatDryRun, formatRedoDryRun, formatRun, formatStatus, redoDoing } from '../migrate/format.js'
import { driftError, parseCount, parseSelection } from '../migrate/plan.js'
import { dryRun, runMigrations, type Direction } from '../migrate/run.js'
import type { MigrateInput } from '../migrate/input.js'
import { createDirOf, migrateSettings, type SettingsInput } from '../migrate/settings.js'
import { migrationStatus } from '../migrate/status.js'

// The flags src/cli.ts declares for each subcommand, as commander hands them over.
interface MigrateFlags {
  migrationsDir?: string
  migrationsTable?: string
  lockTimeout?: string
}
interface ConnectingFlags extends MigrateFlags {
  timeout?: string
}
interface ApplyFlags extends ConnectingFlags {
  to?: string
  /** down only */
  all?: boolean
  singleTransaction?: boolean
  dryRun?: boolean
  /** down of several: go ahead without asking */
  yes?: boolean
}
interface StatusFlags extends ConnectingFlags {
  exitCode?: boolean
}
interface CreateFlags {
  migrationsDir?: string
  /** false with --no-transaction */
  transaction: boolean
}

/** What migrate's core needs from this run, and nothing else of the CLI's context. */
function inputOf(ctx: Context): MigrateInput {
  return { cwd: ctx.cwd, out: ctx.out, signal: ctx.signal, target: (o) => ctx.target(o), connectOptions: () => ctx.connectOptions() }
}

/** Flags over variables over the config file over defaults, each with its source. */
function settingsOf(ctx: Context, opts: MigrateFlags): SettingsInput {
  const migrationsDir = ctx.setting('migrationsDir', { name: '--migrations-dir', value: opts.migrationsDir })
  return {
    cwd: ctx.cwd,
    out: ctx.out,
    migrationsDir,
    // A project with a config file has been set up (init writes migrationsDir there): its folder is meant.
    dirChosen: migrationsDir.source.kind !== 'default' || ctx.configPath !== undefined,
    migrationsTable: ctx.setting('migrationsTable', { name: '--migrations-table', value: opts.migrationsTable }),
    lockTimeout: ctx.setting('timeouts.lock', { name: '--lock-timeout', value: opts.lockTimeout }),
    statementTimeout: ctx.setting('timeouts.statement'),
  }
}

async function apply(ctx: Context, direction: Direction, opts: ApplyFlags, args: string[]): Promise<number> {
  ctx.useTimeoutFlag(opts.timeout)
  const req = {
    direction,
    selection: parseSelection(args[0], opts),
    settings: migrateSettings(settingsOf(ctx, opts)),
    singleTransaction: !!opts.singleTransaction,
    confirm: direction === 'down' ? revertsMany(ctx, opts, args) : undefined,
  }
  if (opts.dryRun) {
    const r = await dryRun(inputOf(ctx), req)
    ctx.out.result({ ok: true, ...r }, () => formatDryRun(r))
  } else {
    const r = await runMigrations(inputOf(ctx), req)
    ctx.out.result({ ok: true, ...r }, () => formatRun(r))
  }
  return ExitCode.OK
}

/**
 * Reverting more than one migration (a count above 1, --to, --all) drops what they made, data
 * included: ask first, or need --yes. The flags decide, not how many are applied today, so a
 * script behaves the same on every run.
 */
function revertsMany(ctx: Context, opts: ApplyFlags, args: string[]) {
  const many = opts.all || opts.to !== undefined || (args[0] !== undefined && Number(args[0]) > 1)
  if (!many) return undefined
  return (names: string[]) => confirmDestruction(ctx, { doing: `migrate down reverts ${names.length === 1 ? 'the migration' : `${names.length} migrations`}`, items: names, yes: opts.yes })
}

export const up = (ctx: Context, opts: ApplyFlags, args: string[]) => apply(ctx, 'up', opts, args)
export const down = (ctx: Context, opts: ApplyFlags, args: string[]) => apply(ctx, 'down', opts, args)

export async function status(ctx: Context, opts: StatusFlags): Promise<number> {
  ctx.useTimeoutFlag(opts.timeout)
  const r = await migrationStatus(inputOf(ctx), migrateSettings(settingsOf(ctx, opts)))
  // Drift is a failure (exit 4): the document says so as every failure does, the report beside it.
  const failure = r.drift.length ? driftError(r.drift) : undefined
  const error = failure && { code: failure.code, message: failure.message, ...(failure.hint ? { hint: failure.hint } : {}) }
  ctx.out.result({ ok: !failure, ...r, ...(error ? { error } : {}) }, () => formatStatus(r, ctx.out.color))
  for (const d of r.drift) ctx.out.warn(`drift: ${d.message}`)
  // What to do about the first one, as up and down say it when they refuse.
  if (failure?.hint) ctx.out.warn(`to fix: ${failure.hint}`)
  if (r.drift.length) return ExitCode.DRIFT
  return opts.exitCode && r.pending > 0 ? ExitCode.PENDING : ExitCode.OK
}

export async function create(ctx: Context, opts: CreateFlags, args: string[]): Promise<number> {
  const path = await createMigration(createDirOf(settingsOf(ctx, opts)), args[0], { transaction: opts.transaction })
  ctx.out.result({ ok: true, path }, `created ${path}`)
  return ExitCode.OK
}

export async function baseline(ctx: Context, opts: ConnectingFlags & { to?: string }): Promise<number> {
  ctx.useTimeoutFlag(opts.timeout)
  const r = await baselineMigrations(inputOf(ctx), migrateSettings(settingsOf(ctx, opts)), opts.to)
  ctx.out.result({ ok: true, ...r }, () => r.baselined.length
    ? r.baselined.map((b) => `recorded ${b.name} as applied (${b.objects.length} object${b.objects.length === 1 ? '' : 's'} found)`).join('\n')
    : 'nothing to baseline: no pending migrations')
  return ExitCode.OK
}

export async function accept(ctx: Context, opts: ConnectingFlags, args: string[]): Promise<number> {
  ctx.useTimeoutFlag(opts.timeout)
  const r = await acceptMigration(inputOf(ctx), migrateSettings(settingsOf(ctx, opts)), args[0])
  ctx.out.result({ ok: true, ...r }, () => r.accepted
    ? `accepted ${r.file} as ${r.name} (checksum ${r.previous ? `${r.previous.slice(0, 12)}...` : 'none'} -> ${r.checksum.slice(0, 12)}...${r.difference ? `; ${describeDifference(r.difference)}` : ''}); the database was not changed`
    : `${r.name} already matches ${r.file}: nothing to accept`)
  return ExitCode.OK
}

/**
 * redo reverts before it re-applies: the rows in what it reverts are gone. Unlike `down` of one,
 * it always asks (or needs --yes): its name does not say that it drops anything. --dry-run shows
 * what it would ask about and run, and so asks nothing.
 */
export async function redo(ctx: Context, opts: ConnectingFlags & { yes?: boolean; dryRun?: boolean }, args: string[]): Promise<number> {
  ctx.useTimeoutFlag(opts.timeout)
  const count = parseCount(args[0]) ?? 1
  const settings = migrateSettings(settingsOf(ctx, opts))
  if (opts.dryRun) {
    const d = await redoDryRun(inputOf(ctx), settings, count)
    ctx.out.result({ ok: true, ...d }, () => formatRedoDryRun(d))
    return ExitCode.OK
  }
  const r = await redoMigrations(inputOf(ctx), settings, count, (names) =>
    confirmDestruction(ctx, { doing: redoDoing(names.length), items: names, yes: opts.yes }))
  ctx.out.result({ ok: true, ...r }, () => r.reverted.length
    ? [...r.reverted.map((m) => `reverted ${m.name} (${m.ms} ms)`), ...r.applied.map((m) => `applied ${m.name} (${m.ms} ms)`)].join('\n')
    : 'nothing to redo: no migration is applied')
  return ExitCode.OK
}
