// The whole seed in one transaction: check the schema, make room (reset, or the seed's own rows),
// load users and categories through staging tables, stream the todos straight into COPY (into an
// empty table with its indexes and foreign keys deferred, see bulkload.ts), or, when rows of the
// app refer to seed todos, through a staging table too (apply.ts).
// Any failure, a lost connection or a signal rolls everything back.
import type postgres from 'postgres'
import { ExitCode, TodoDbError, interrupted } from '../errors.js'
import type { Output } from '../output.js'
import type { Deadline } from '../duration.js'
import { classifyError } from '../classify.js'
import { connect, inTransaction, isOpen, type Sql } from '../db/connection.js'
import type { DbTarget } from '../db/url.js'
import { cancellation, unlessAborted, type Cancellation } from './cancel.js'
import { copyLines } from './copy.js'
import type { Table, TodoLoad } from './ownership.js'
import { planSeed, type SeedOptions, type SeedPlan } from './plan.js'
import { CATEGORY_COLUMNS, TODO_COLUMNS, USER_COLUMNS, categoryLines, todoLines, userLines } from './rows.js'
import { assertMigrated } from './schema.js'
import { deferChecks } from './bulkload.js'
import { oneSeedAtATime } from './lock.js'
import { reset, type Emptied } from './reset.js'
import { dependents, foreignKeys, refuseDataLoss } from './dataloss.js'
import { mergeTodos, replaceTodos } from './apply.js'
import { stage, type TableChanges } from './tables.js'
import { analyseStale } from './stats.js'

import type { Step } from './step.js'

export type { Emptied, TableChanges }

export interface SeedResult {
  /** The reference day the dates were spread around (YYYY-MM-DD, UTC). */
  today: string
  /** Rows of the seed, per table, as this run made them. */
  users: number
  categories: number
  todos: number
  changes: Record<Table, TableChanges>
  /** With --reset --cascade: the other tables it emptied, and the rows each had. */
  cascaded?: Emptied[]
  ms: number
  rowsPerSecond: number
}

export interface SeedInput {
  target: DbTarget
  deadline: Deadline
  signal: AbortSignal
  out?: Output
  lockTimeoutMs: number
  statementTimeoutMs: number
  /** timeouts.stall: see connection.ts */
  stallMs?: number
  /** The project folder (names a stopped provision --local server). */
  cwd?: string
  /** Called with the number of rows sent so far, and when the server is checking the last table. */
  onProgress?: (rows: number, checking?: string) => void
}

/** How long a lost connection's statement may take to be cancelled on the server before we exit. */
const CANCEL_ON_SERVER_MS = 3000

const stopped = (signal: AbortSignal) =>
  interrupted(signal.reason, 'the seed was cancelled and rolled back, the database is as it was')

export async function seedDatabase(input: SeedInput, options: SeedOptions): Promise<SeedResult> {
  const plan = planSeed(options)
  const started = performance.now()
  let loaded = 0
  const progress = {
    rows: (n: number) => input.onProgress?.((loaded += n)),
    sent: (table: string) => input.onProgress?.(loaded, table),
  }
  const sql = await unlessAborted(
    connect(input.target, { deadline: input.deadline, out: input.out, signal: input.signal, stallMs: input.stallMs, cwd: input.cwd, max: 1, applicationName: 'todo-db seed' }),
    input.signal, () => stopped(input.signal), (late) => void late.end({ timeout: 0 }).catch(() => {}))
  const guard = cancellation(input.signal, () => stopped(input.signal))
  try {
    guard.throwIfAborted()
    const { changes, ...counts } = await inTransaction(sql, () => load(sql, plan, guard, progress, input))
    const ms = Math.round(performance.now() - started)
    const rows = counts.users + counts.categories + counts.todos
    return { today: plan.today, ...counts, changes, ms, rowsPerSecond: Math.round(rows / Math.max(ms / 1000, 0.001)) }
  } catch (e) {
    input.out?.debug(`seed stopped: ${(e as Error)?.message ?? e}`)
    if (input.signal.aborted) throw stopped(input.signal)
    const error = classifyError(e, input.target)
    // A stalled link was probed: the server is unreachable or was told already.
    if (error.exitCode === ExitCode.NO_RESPONSE && error.code !== 'STALLED') await guard.cancelOnServer(CANCEL_ON_SERVER_MS)
    throw explain(error)
  } finally {
    guard.dispose()
    await sql.end({ timeout: isOpen(sql) ? 1 : 0 }).catch(() => {})
  }
}

/** A lost connection mid-transaction is rolled back by the server: say so, it is what users ask. */
function explain(e: TodoDbError): TodoDbError {
  if (e.exitCode !== ExitCode.NO_RESPONSE) return e
  return new TodoDbError(`${e.message}: the connection was lost during the seed; the server rolls the transaction back, nothing was changed`, {
    code: e.code, exitCode: e.exitCode, hint: e.hint, cause: e,
  })
}

interface Progress {
  rows(n: number): void
  sent(table: string): void
}

async function load(tx: Sql, plan: SeedPlan, guard: Cancellation, progress: Progress, input: SeedInput) {
  const step: Step = async <T>(q: postgres.PendingQuery<postgres.Row[]>): Promise<T> => {
    guard.throwIfAborted()
    return (await guard.track(q)) as T
  }
  // Never wait forever behind the app's locks (TRUNCATE needs an exclusive one).
  await step(tx`select set_config('lock_timeout', ${String(input.lockTimeoutMs)}, true),
                      set_config('statement_timeout', ${String(input.statementTimeoutMs)}, true)`)
  await assertMigrated((text) => step(tx.unsafe(text)))
  await oneSeedAtATime(step, tx, input.lockTimeoutMs, input.out)

  const { had: emptied, cascaded } = plan.reset ? await reset(step, tx, plan) : { had: { users: 0, categories: 0, todos: 0 }, cascaded: [] }
  // The joins below are planned from the tables' statistics (emptied ones need none).
  if (!plan.reset) await analyseStale(step, tx, input.out)
  // `shown`: the table the user knows, not our staging table's name
  const copy = (table: string, columns: readonly string[], lines: Iterable<string>, shown = table) => {
    guard.throwIfAborted()
    return copyLines(tx, { table, columns }, lines, guard, { rows: progress.rows, sent: () => progress.sent(shown) })
  }
  // Idempotency. The seed's rows are found by id range (ownership.ts). Users and categories are
  // staged, then upserted: an unchanged row is not touched at all, so a second run leaves the
  // database exactly as the first did; a seed row edited since is put back (its updated_at then
  // says now(): the table's trigger owns that column, and later runs leave it so, see tables.ts).
  // Todos are deleted and copied again, the fast way (COPY cannot upsert, and staging the bulk
  // costs time), unless rows of the app refer to some of them: then deleting them would take
  // those rows along, so they are staged and merged like users and categories (apply.ts).
  const staged = {
    users: await stage(step, tx, copy, 'users', USER_COLUMNS, userLines(plan)),
    categories: await stage(step, tx, copy, 'categories', CATEGORY_COLUMNS, categoryLines(plan)),
  }
  const keys = await foreignKeys(step, tx)
  let found = await dependents(step, tx, plan.seed, keys, 'replace')
  const todoLoad: TodoLoad = found.some((f) => f.of === 'todos') ? 'merge' : 'replace'
  let stagedTodos = 0
  if (todoLoad === 'merge') {
    input.out?.debug('rows of the app refer to seed todos: the todos are staged and merged, not copied again')
    stagedTodos = await stage(step, tx, copy, 'todos', TODO_COLUMNS, todoLines(plan))
    found = await dependents(step, tx, plan.seed, keys, 'merge')
  }
  // What this run deletes must not take the app's rows along (ON DELETE CASCADE / SET NULL).
  await refuseDataLoss(step, tx, plan, found, todoLoad)
  const writer = { step, tx, seed: plan.seed }
  const run = (text: string) => step<postgres.Row[]>(tx.unsafe(text))
  const applied = todoLoad === 'merge'
    ? await mergeTodos(writer, stagedTodos)
    : await replaceTodos(writer, async () => {
      const restore = await deferChecks(run, 'todos')
      if (restore) input.out?.debug('todos is empty: its indexes and foreign keys are built and checked after the load')
      const todos = await copy('todos', TODO_COLUMNS, todoLines(plan))
      await restore?.()
      return todos
    })
  guard.throwIfAborted()
  const { deleted, upserted, todos } = applied
  const changes = (table: 'users' | 'categories'): TableChanges => {
    const { inserted, updated } = upserted[table]
    return { inserted, updated, deleted: emptied[table] + deleted[table], unchanged: staged[table] - inserted - updated }
  }
  const todoChanges = { ...applied.todoChanges, deleted: emptied.todos + applied.todoChanges.deleted }
  return {
    users: staged.users, categories: staged.categories, todos,
    changes: { users: changes('users'), categories: changes('categories'), todos: todoChanges },
    ...(plan.reset ? { cascaded } : {}),
  }
}
