// migrate up / down: pick the migrations under the lock, refuse on drift, run them, release.
import type postgres from 'postgres'
import { classifyError, isConnectionLost } from '../classify.js'
import type { DbTarget } from '../db/url.js'
import { sessionPid } from '../db/connection.js'
import { badInput, failed, isTodoDbError } from '../errors.js'
import { loadSqlEngine, needsRunner, runEngine, type Ran } from './engine.js'
import { loadMigrationFiles, runsOutsideTransaction, sectionSql, type MigrationFile } from './files.js'
import { ensureJournal, readJournal, readJournalWithShape, recordFiles } from './journal.js'
import { explainEdits } from './drift.js'
import { tryMigrationLock } from './lock.js'
import { closeMigrateSession, connectMigrateSession, waitForMigrationLock } from './session.js'
import { driftError, inventory, selectDown, selectUp, type Inventory, type Selection } from './plan.js'
import { readInventory } from './read.js'
import { maskSql } from './mask.js'
import { loadParser } from './parser.js'
import { refuseTransactionControl } from './statements.js'
import type { MigrateSettings } from './settings.js'
import type { MigrateInput } from './input.js'

export type Direction = 'up' | 'down'

export interface RunRequest {
  direction: Direction
  selection: Selection
  settings: MigrateSettings
  /** The whole run in one transaction instead of one per file. */
  singleTransaction?: boolean
  /** Asked with the names about to run, under the lock (so they are exactly what runs); throws to stop. */
  confirm?: (names: string[]) => Promise<void>
}

export interface RunResult {
  direction: Direction
  migrations: Ran[]
  /** Checksums recorded for migrations applied before todo-db kept them. */
  recorded: string[]
}

export interface DryRunResult {
  direction: Direction
  dryRun: true
  migrations: { name: string; sql: string | null; transaction: boolean }[]
}

function choose(inv: Inventory, direction: Direction, selection: Selection): MigrationFile[] {
  if (inv.drift.length) throw driftError(inv.drift)
  if (direction === 'up') return selectUp(inv, selection)
  // Drift is refused above, so every applied migration has its file.
  return selectDown(inv, selection).map((m) => m.file!)
}

/**
 * Prints nothing, changes nothing: reads what is applied (a pooled URL is fine) and the files.
 * The SQL is as it would be sent, secrets masked (mask.ts): it is there to be printed.
 */
export async function dryRun(ctx: MigrateInput, req: RunRequest): Promise<DryRunResult> {
  const files = await loadMigrationFiles(req.settings.dir)
  loadParser().catch(() => {})
  const plan = choose(await readInventory(ctx, files, req.settings.table), req.direction, req.selection)
  await refuseTransactionControl(plan, req.direction, ctx.cwd)
  return { direction: req.direction, dryRun: true, migrations: await shownSections(plan, req.direction) }
}

/** Each file's section for one direction, as a dry run shows it: masked; null for a file that is not SQL. */
export async function shownSections(plan: MigrationFile[], direction: Direction): Promise<DryRunResult['migrations']> {
  await loadParser()
  return Promise.all(plan.map(async (f) => {
    const sql = await sectionSql(f, direction)
    return { name: f.name, sql: sql === undefined ? null : maskSql(sql), transaction: !runsOutsideTransaction(f) }
  }))
}

export async function downSectionsPresent(plan: MigrationFile[]): Promise<void> {
  for (const f of plan) {
    if (f.path.endsWith('.sql') && (await sectionSql(f, 'down')) === undefined) {
      throw failed(`${f.name} has no "-- Down Migration" section: it cannot be reverted`, { code: 'IRREVERSIBLE', hint: 'nothing was reverted' })
    }
  }
}

/** Where a no-transaction file cannot keep its promise, refuse before running anything. */
function checkOutsideTransaction(plan: MigrationFile[], req: RunRequest): void {
  const outside = plan.find(runsOutsideTransaction)
  if (!outside) return
  if (req.singleTransaction) {
    throw badInput(`${outside.name} runs outside a transaction (todo-db:no-transaction): it cannot be part of --single-transaction`,
      'run without --single-transaction', 'USAGE')
  }
  // node-pg-migrate's runner reads SQL files itself and knows no such line.
  if (needsRunner(plan)) {
    throw badInput(`${outside.name} runs outside a transaction (todo-db:no-transaction), which does not work in a run with JavaScript migrations`,
      `apply up to the migration before it first (todo-db migrate ${req.direction} --to NAME), then the rest`, 'USAGE')
  }
}

/** The direct session target; with only a pooled URL, `up` with nothing to do still succeeds. */
async function sessionTarget(ctx: MigrateInput, req: RunRequest, files: MigrationFile[]): Promise<DbTarget | undefined> {
  try {
    return ctx.target({ session: true })
  } catch (e) {
    if (!(isTodoDbError(e) && e.code === 'POOLED_URL' && req.direction === 'up')) throw e
    // Reading through the pooler is safe; only applying needs a session.
    const plan = choose(await readInventory(ctx, files, req.settings.table), 'up', req.selection)
    if (plan.length > 0) throw e
    ctx.out.debug('only a pooled URL, but nothing to apply: no session needed')
    return undefined
  }
}

export async function runMigrations(ctx: MigrateInput, req: RunRequest): Promise<RunResult> {
  const { settings } = req
  const files = await loadMigrationFiles(settings.dir)
  const target = await sessionTarget(ctx, req, files)
  const done: RunResult = { direction: req.direction, migrations: [], recorded: [] }
  if (!target) return done

  // Started now, awaited when the first file is applied; a failure to load shows up there.
  loadSqlEngine().catch(() => {})
  loadParser().catch(() => {})
  const sql = await connectMigrateSession(ctx, settings, target)
  let conn: postgres.ReservedSql | undefined
  let locked = false
  try {
    // One connection for everything: the lock, the journal and the migrations share a session.
    conn = await sql.reserve()
    // The first try for the lock and the journal go in one round trip: the server answers in
    // order, so the journal is read under the lock when the try got it; if not, we wait for the
    // lock and read again.
    const tried = tryMigrationLock(conn)
    const readAlong = readJournalWithShape(conn, settings.table)
    readAlong.catch(() => {})
    let journal: Awaited<typeof readAlong>
    if (await tried) {
      locked = true
      journal = await readAlong
    } else {
      await waitForMigrationLock(conn, ctx, settings)
      locked = true
      journal = await readJournalWithShape(conn, settings.table)
    }
    // What to run, and whether it may run, before anything is written (a missing table reads as empty).
    const inv = inventory(files, journal.applied)
    await explainEdits(conn, settings.table, inv)
    const plan = choose(inv, req.direction, req.selection)
    if (req.direction === 'down') await downSectionsPresent(plan)
    checkOutsideTransaction(plan, req)
    await refuseTransactionControl(plan, req.direction, ctx.cwd)
    await req.confirm?.(plan.map((f) => f.name))
    await ensureJournal(conn, settings.table, journal)
    // Trust on first use: history from before checksums were kept gets today's files' checksums;
    // files that match their checksum are what was applied, so their text is kept too.
    await recordFiles(conn, settings.table, [...inv.unrecorded.map((u) => u.file), ...inv.textless])
    done.recorded.push(...inv.unrecorded.map((u) => u.name))
    if (plan.length === 0) return done
    done.migrations = await runEngine({
      conn, plan, files, direction: req.direction, dir: settings.dir, table: settings.table,
      cwd: ctx.cwd, target, out: ctx.out, signal: ctx.signal, singleTransaction: !!req.singleTransaction, pid: sessionPid(sql),
    })
    // SQL files carry their checksum in their journal row (pipeline.ts, journal.ts); the runner's may not.
    if (req.direction === 'up' && needsRunner(plan)) await backfillChecksums(conn, settings.table, plan)
    return done
  } catch (e) {
    if (isConnectionLost(e)) locked = false // the server released it with the session
    throw classifyError(e, target)
  } finally {
    await closeMigrateSession(sql, conn, locked, ctx)
  }
}

/** In case the runner's INSERT was not recognised and so did not carry the checksum (journal.ts journalStatements). */
export async function backfillChecksums(conn: postgres.ReservedSql, table: string, plan: MigrationFile[]): Promise<void> {
  const applied = new Map((await readJournal(conn, table)).map((a) => [a.name, a]))
  await recordFiles(conn, table, plan.filter((f) => applied.get(f.name)?.checksum === null))
}

