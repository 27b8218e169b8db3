// The whole seed in one transaction: check the schema, make room (reset, or the seed's own rows),
// load users and categories through staging tables, stream the todos straight into COPY (into an
// empty table with its indexes and foreign keys deferred, see bulkload.ts).
// Any failure, a lost connection or a signal rolls everything back.
import type postgres from 'postgres'
import { ExitCode, TodoDbError, interrupted } from '../errors.js'
import type { Output } from '../output.js'
import type { Deadline } from '../duration.js'
import { classifyError, connect, isOpen, type Sql } from '../db/connection.js'
import type { DbTarget } from '../db/url.js'
import { cancellation, unlessAborted, type Cancellation } from './cancel.js'
import { copyLines } from './copy.js'
import { idRange, type KindName } from './ids.js'
import { planSeed, type SeedOptions, type SeedPlan } from './plan.js'
import { CATEGORY_COLUMNS, TODO_COLUMNS, USER_COLUMNS, categoryLines, todoLines, userLines } from './rows.js'
import { assertMigrated } from './schema.js'
import { deferChecks } from './bulkload.js'

export interface SeedResult {
  users: number
  categories: number
  todos: number
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
    const counts = await inTransaction(sql, () => load(sql, plan, guard, progress, input))
    const ms = Math.round(performance.now() - started)
    const rows = counts.users + counts.categories + counts.todos
    return { ...counts, ms, rowsPerSecond: Math.round(rows / Math.max(ms / 1000, 0.001)) }
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

/**
 * BEGIN ... COMMIT by hand rather than sql.begin(): after a lost connection, sql.begin() still
 * writes its ROLLBACK and postgres.js throws from a timer (a write to a closed socket), which would
 * crash the process. A lost connection needs no ROLLBACK: the server rolls back on its own.
 * (max: 1, so every statement goes over this one connection.)
 */
async function inTransaction<T>(sql: Sql, fn: () => Promise<T>): Promise<T> {
  await sql`begin`
  try {
    const result = await fn()
    await sql`commit`
    return result
  } catch (e) {
    // After a stall or a signal closed the session, a query would wait for a connection forever.
    if (isOpen(sql) && classifyError(e).exitCode !== ExitCode.NO_RESPONSE) await sql`rollback`.catch(() => {})
    throw e
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
  const step = async <T>(q: postgres.PendingQuery<postgres.Row[]>): Promise<T> => {
    guard.throwIfAborted()
    return (await guard.track(q)) as T
  }
  // Never wait forever behind the app's locks (TRUNCATE needs an exclusive one).
  await step(tx`select set_config('lock_timeout', ${String(input.lockTimeoutMs)}, true),
                      set_config('statement_timeout', ${String(input.statementTimeoutMs)}, true)`)
  await assertMigrated((text) => step(tx.unsafe(text)))

  if (plan.reset) {
    // TRUNCATE, not DELETE: instant, and transactional in PostgreSQL. Without CASCADE: should
    // another table reference these, the seed fails (and rolls back) rather than empty it too.
    await step(tx`truncate todos, categories, users`)
  }
  // Idempotency. The seed's rows are found by id range (see ids.ts). Todos are deleted and copied
  // again: COPY cannot upsert, and staging the bulk would halve the speed. Users and categories are
  // upserted instead of deleted: deleting a user cascades into todos and categories, row by row, and
  // would take along rows the app added under a seed user; upserting keeps them. An unchanged row is not touched at all, so a second run
  // leaves the database exactly as the first did; a seed row edited since is put back (its
  // updated_at then says now(): the table's trigger owns that column).
  const [firstTodo, lastTodo] = idRange(plan.seed, 'todo')
  await step(tx`delete from todos where id between ${firstTodo}::uuid and ${lastTodo}::uuid`)
  // `shown`: the table the user knows, not our staging table's name
  const copy = (table: string, columns: readonly string[], lines: Iterable<string>, shown = table) => {
    guard.throwIfAborted()
    return copyLines(tx, { table, columns }, lines, guard, { rows: progress.rows, sent: () => progress.sent(shown) })
  }
  const users = await upsert(tx, step, copy, plan.seed, 'user', 'users', USER_COLUMNS, userLines(plan))
  const categories = await upsert(tx, step, copy, plan.seed, 'category', 'categories', CATEGORY_COLUMNS, categoryLines(plan))
  const run = (text: string) => step<postgres.Row[]>(tx.unsafe(text))
  const restore = await deferChecks(run, 'todos')
  if (restore) input.out?.debug('todos is empty: its indexes and foreign keys are built and checked after the load')
  const todos = await copy('todos', TODO_COLUMNS, todoLines(plan))
  await restore?.()
  guard.throwIfAborted()
  return { users, categories, todos }
}

type Step = <T>(q: postgres.PendingQuery<postgres.Row[]>) => Promise<T>
type Copy = (table: string, columns: readonly string[], lines: Iterable<string>, shown?: string) => Promise<number>

/** Loads rows into a staging table, upserts those that differ, deletes the seed's rows not among them. */
async function upsert(tx: Sql, step: Step, copy: Copy, seed: number, kind: KindName, table: string, columns: readonly string[], lines: Iterable<string>) {
  const stage = `seed_${table}`
  const [first, last] = idRange(seed, kind)
  const cols = columns.join(', ')
  const rest = columns.filter((c) => c !== 'id')
  // Identifiers are our own constants; values go as parameters.
  await step(tx.unsafe(`create temp table ${stage} (like ${table}) on commit drop`))
  const rows = await copy(stage, columns, lines, table)
  await step(tx.unsafe(`
    insert into ${table} (${cols}) select ${cols} from ${stage}
    on conflict (id) do update set ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}
    where (${rest.map((c) => `${table}.${c}`).join(', ')}) is distinct from (${rest.map((c) => `excluded.${c}`).join(', ')})`))
  await step(tx.unsafe(`
    delete from ${table} t where t.id between $1::uuid and $2::uuid
    and not exists (select 1 from ${stage} s where s.id = t.id)`, [first, last]))
  return rows
}
