// migrate redo [N]: revert the last N migrations and apply them again (node-pg-migrate's redo),
// to try an edited Down/Up while developing. Under one migration lock and in ONE transaction:
// a failure or Ctrl-C in either half leaves the database as it was, never with the migrations
// reverted and not re-applied.
import type postgres from 'postgres'
import type { MigrateInput } from './input.js'
import { badInput, interrupted } from '../errors.js'
import { runEngine, type Ran } from './engine.js'
import { loadMigrationFiles, runsOutsideTransaction, type MigrationFile } from './files.js'
import { ensureJournal, readJournal } from './journal.js'
import { explainEdits } from './drift.js'
import { driftError, inventory, selectDown, type Inventory } from './plan.js'
import { readInventory } from './read.js'
import { backfillChecksums, downSectionsPresent, shownSections } from './run.js'
import { withMigrationLock } from './session.js'
import type { MigrateSettings } from './settings.js'
import { loadParser } from './parser.js'
import { refuseTransactionControl } from './statements.js'

export interface RedoResult {
  /** Last applied first, as down reverts them. */
  reverted: Ran[]
  /** In file order, as up applies them. */
  applied: Ran[]
}

const TRANSACTION_EDGE = /^\s*(begin|commit)\s*;?\s*$/i
/** The pipelined run's last message ends its one transaction (pipeline.ts pipelinePieces). */
const FINAL_COMMIT = /;\s*COMMIT\s*;?\s*$/i

/**
 * The session as the engine sees it for one half of the redo: its BEGIN and COMMIT (the engine's
 * single-transaction mode, and the COMMIT ending its pipelined last message) become no-ops, so
 * both halves share the transaction we opened. Its
 * ROLLBACK on failure goes through and takes both halves back.
 */
function insideOurTransaction(conn: postgres.ReservedSql): postgres.ReservedSql {
  return new Proxy(conn, {
    get(target, prop, receiver) {
      if (prop !== 'unsafe') return Reflect.get(target, prop, receiver)
      return (text: string, ...rest: unknown[]) => TRANSACTION_EDGE.test(text)
        ? Object.assign(Promise.resolve([]), { cancel() {} })
        : (target.unsafe as (...a: unknown[]) => unknown)(text.replace(FINAL_COMMIT, ''), ...rest)
    },
  })
}

function refuseOutsideTransaction(plan: MigrationFile[]): void {
  const outside = plan.find(runsOutsideTransaction)
  if (!outside) return
  throw badInput(`${outside.name} runs outside a transaction (todo-db:no-transaction), and redo runs in one`,
    'revert and apply it in two steps: todo-db migrate down, then todo-db migrate up', 'USAGE')
}

/**
 * The migrations redo reverts, last applied first, once it is sure it can redo them: the same
 * refusals for a real run and a dry run, so that a dry run says what the run would do.
 */
async function redoPlan(inv: Inventory, count: number, cwd: string): Promise<MigrationFile[]> {
  if (inv.drift.length) throw driftError(inv.drift)
  // Drift is refused above, so every applied migration has its file.
  const down = selectDown(inv, { count }).map((m) => m.file!)
  if (down.length === 0) return down
  await downSectionsPresent(down)
  refuseOutsideTransaction(down)
  await refuseTransactionControl(down, 'down', cwd)
  await refuseTransactionControl([...down].reverse(), 'up', cwd)
  return down
}

export interface RedoDryRun {
  dryRun: true
  /** What it would revert and re-apply, last applied first: the list it asks about. */
  destroys: string[]
  /** The Down SQL of each, in the order it would run, then the Up SQL, in file order; masked. */
  down: { name: string; sql: string | null }[]
  up: { name: string; sql: string | null }[]
}

/** Changes nothing and asks nothing: reads what is applied (a pooled URL is fine) and the files. */
export async function redoDryRun(ctx: MigrateInput, settings: MigrateSettings, count: number): Promise<RedoDryRun> {
  const files = await loadMigrationFiles(settings.dir)
  loadParser().catch(() => {})
  const down = await redoPlan(await readInventory(ctx, files, settings.table), count, ctx.cwd)
  const shown = async (plan: MigrationFile[], direction: 'up' | 'down') =>
    (await shownSections(plan, direction)).map(({ name, sql }) => ({ name, sql }))
  return { dryRun: true, destroys: down.map((f) => f.name), down: await shown(down, 'down'), up: await shown([...down].reverse(), 'up') }
}

export async function redoMigrations(ctx: MigrateInput, settings: MigrateSettings, count: number, confirm: (names: string[]) => Promise<void>): Promise<RedoResult> {
  const files = await loadMigrationFiles(settings.dir)
  loadParser().catch(() => {})
  return withMigrationLock(ctx, settings, async ({ conn, target }) => {
    const inv = inventory(files, await readJournal(conn, settings.table))
    await explainEdits(conn, settings.table, inv)
    const down = await redoPlan(inv, count, ctx.cwd)
    if (down.length === 0) return { reverted: [], applied: [] }
    const up = [...down].reverse()
    await confirm(down.map((f) => f.name))
    // The journal row written by up carries the columns a journal of an older todo-db lacks.
    await ensureJournal(conn, settings.table)

    const shared = insideOurTransaction(conn)
    const run = (plan: MigrationFile[], direction: 'up' | 'down') => runEngine({
      conn: shared, plan, files, direction, dir: settings.dir, table: settings.table,
      cwd: ctx.cwd, target, out: ctx.out, signal: ctx.signal, singleTransaction: true,
    })
    await conn.unsafe('begin')
    try {
      const reverted = await run(down, 'down')
      if (ctx.signal.aborted) throw interrupted(ctx.signal.reason, 'the redo was rolled back; the database is as before')
      const applied = await run(up, 'up')
      await backfillChecksums(conn, settings.table, up)
      await conn.unsafe('commit')
      return { reverted, applied }
    } catch (e) {
      await conn.unsafe('rollback').catch(() => {})
      throw e
    }
  })
}
