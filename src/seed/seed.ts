// The whole seed in one transaction: check the schema, make room (reset, or the seed's own rows),
// load users and categories through staging tables, stream the todos straight into COPY (into an
// empty table with its indexes and foreign keys deferred, see bulkload.ts).
// Any failure, a lost connection or a signal rolls everything back.
import type postgres from 'postgres'
import { ExitCode, TodoDbError, failed, interrupted } from '../errors.js'
import type { Output } from '../output.js'
import type { Deadline } from '../duration.js'
import { classifyError, connect, type Sql } from '../db/connection.js'
import type { DbTarget } from '../db/url.js'
import { cancellation, unlessAborted, type Cancellation } from './cancel.js'
import { copyLines } from './copy.js'
import { FOREIGN_KEYS_SQL, TRUNCATE_REACH_SQL, dependentsSql, doomed, legacy, ours, stageOf, type ForeignKey, type Table } from './ownership.js'
import { planSeed, type SeedOptions, type SeedPlan } from './plan.js'
import { CATEGORY_COLUMNS, TODO_COLUMNS, USER_COLUMNS, categoryLines, todoLines, userLines } from './rows.js'
import { assertMigrated } from './schema.js'
import { deferChecks } from './bulkload.js'

export interface Emptied {
  table: string
  rows: number
}

/** What a run did to one table's rows (the seed's, and all of them with --reset). */
export interface TableChanges {
  inserted: number
  updated: number
  deleted: number
  unchanged: number
}

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
    connect(input.target, { deadline: input.deadline, out: input.out, max: 1, applicationName: 'todo-db seed' }),
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
    if (error.exitCode === ExitCode.NO_RESPONSE) await guard.cancelOnServer(CANCEL_ON_SERVER_MS)
    throw explain(error)
  } finally {
    guard.dispose()
    await sql.end({ timeout: 1 }).catch(() => {})
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
    if (classifyError(e).exitCode !== ExitCode.NO_RESPONSE) await sql`rollback`.catch(() => {})
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
  await oneSeedAtATime(step, tx, input)

  const { had: emptied, cascaded } = plan.reset ? await reset(step, tx, plan) : { had: { users: 0, categories: 0, todos: 0 }, cascaded: [] }
  // `shown`: the table the user knows, not our staging table's name
  const copy = (table: string, columns: readonly string[], lines: Iterable<string>, shown = table) => {
    guard.throwIfAborted()
    return copyLines(tx, { table, columns }, lines, guard, { rows: progress.rows, sent: () => progress.sent(shown) })
  }
  // Idempotency. The seed's rows are found by id range (ownership.ts). Users and categories are
  // staged, then upserted: an unchanged row is not touched at all, so a second run leaves the
  // database exactly as the first did; a seed row edited since is put back (its updated_at then
  // says now(): the table's trigger owns that column). Todos are deleted and copied again: COPY
  // cannot upsert, and staging the bulk would halve the speed.
  const staged = {
    users: await stage(step, tx, copy, 'users', USER_COLUMNS, userLines(plan)),
    categories: await stage(step, tx, copy, 'categories', CATEGORY_COLUMNS, categoryLines(plan)),
  }
  // What this run deletes must not take the app's rows along (ON DELETE CASCADE / SET NULL).
  await refuseDataLoss(step, tx, plan)
  const oldTodos = await removeTodos(step, tx, plan.seed)
  // categories first: a surplus user's categories are surplus too
  const deleted = {
    categories: await remove(step, tx, plan.seed, 'categories'),
    users: await remove(step, tx, plan.seed, 'users'),
  }
  const upserted = {
    users: await upsert(step, tx, 'users', USER_COLUMNS),
    categories: await upsert(step, tx, 'categories', CATEGORY_COLUMNS),
  }
  const run = (text: string) => step<postgres.Row[]>(tx.unsafe(text))
  const restore = await deferChecks(run, 'todos')
  if (restore) input.out?.debug('todos is empty: its indexes and foreign keys are built and checked after the load')
  const todos = await copy('todos', TODO_COLUMNS, todoLines(plan))
  await restore?.()
  guard.throwIfAborted()
  const changes = (table: 'users' | 'categories'): TableChanges => {
    const { inserted, updated } = upserted[table]
    return { inserted, updated, deleted: emptied[table] + deleted[table], unchanged: staged[table] - inserted - updated }
  }
  const todoChanges = oldTodos === 0
    ? { inserted: todos, updated: 0, deleted: emptied.todos, unchanged: 0 }
    : await compareTodos(step, tx, plan.seed)
  return {
    users: staged.users, categories: staged.categories, todos,
    changes: { users: changes('users'), categories: changes('categories'), todos: todoChanges },
    ...(plan.reset ? { cascaded } : {}),
  }
}

type Step = <T>(q: postgres.PendingQuery<postgres.Row[]>) => Promise<T>

/**
 * Two seeds at once on one database deadlock (both alter an empty todos, see bulkload.ts) or clash
 * on the same ids. A transaction-level advisory lock serialises them: it is released by COMMIT or
 * ROLLBACK, even when the connection drops, and it works through a transaction-mode pooler (the
 * pooled URL seed uses), where a session-level lock would stay with a server connection someone
 * else gets next. Keys: 'todo' and 'seed' in ASCII, in the two-key space (node-pg-migrate uses the
 * one-bigint space). Taken before anything is read, so the later seed sees the earlier one's rows.
 */
export const SEED_LOCK = [0x746f646f, 0x73656564] as const

async function oneSeedAtATime(step: Step, tx: Sql, input: SeedInput): Promise<void> {
  const [{ locked }] = await step<{ locked: boolean }[]>(tx`select pg_try_advisory_xact_lock(${SEED_LOCK[0]}, ${SEED_LOCK[1]}) as locked`)
  if (locked) return
  input.out?.debug('another todo-db seed is running on this database: waiting for it (timeouts.lock)')
  try {
    await step(tx`select pg_advisory_xact_lock(${SEED_LOCK[0]}, ${SEED_LOCK[1]})`)
  } catch (e) {
    if ((e as { code?: string })?.code !== '55P03') throw e
    throw failed(`another todo-db seed is running on this database and did not finish within timeouts.lock (${input.lockTimeoutMs} ms); nothing was changed`, {
      code: 'SEED_BUSY', hint: 'run it again when the other seed is done, or raise timeouts.lock', sqlState: '55P03',
    })
  }
}
type Copy = (table: string, columns: readonly string[], lines: Iterable<string>, shown?: string) => Promise<number>

/**
 * Empties the three tables; returns how many rows each had. Tables of the app that reference them
 * would have to be emptied too (TRUNCATE refuses otherwise): only with --cascade, named first.
 */
async function reset(step: Step, tx: Sql, plan: SeedPlan): Promise<{ had: Record<Table, number>; cascaded: Emptied[] }> {
  const [had] = await step<Record<Table, number>[]>(tx`
    select (select count(*)::int from users) as users, (select count(*)::int from categories) as categories,
           (select count(*)::int from todos) as todos`)
  const others = await step<{ table: string }[]>(tx.unsafe(TRUNCATE_REACH_SQL))
  const cascaded: Emptied[] = []
  for (const { table } of others) {
    // the name comes quoted from regclass::text
    const [{ n }] = await step<{ n: number }[]>(tx.unsafe(`select count(*)::int as n from ${table}`))
    cascaded.push({ table, rows: n })
  }
  const listed = cascaded.map((t) => `${t.table} (${plural(t.rows, 'row')})`).join(', ')
  if (cascaded.length > 0 && !plan.cascade) {
    throw failed(`--reset would also have to empty ${listed}, which refer to users, categories or todos; nothing was changed`, {
      code: 'RESET_NEEDS_CASCADE',
      hint: 'pass --reset --cascade to empty those tables too',
      data: { referencing: cascaded },
    })
  }
  // TRUNCATE, not DELETE: instant, and transactional in PostgreSQL.
  await step(tx.unsafe(`truncate todos, categories, users${cascaded.length > 0 ? ' cascade' : ''}`))
  return { had, cascaded }
}

/** Copies the rows this run makes into a staging table (dropped at commit). */
async function stage(step: Step, tx: Sql, copy: Copy, table: Table, columns: readonly string[], lines: Iterable<string>): Promise<number> {
  // Identifiers are our own constants.
  await step(tx.unsafe(`create temp table ${stageOf(table)} (like ${table}) on commit drop`))
  return copy(stageOf(table), columns, lines, table)
}

const EFFECT: Record<string, string> = { c: 'would be deleted', n: 'would lose the reference (set null)', d: 'would lose the reference (set default)' }

/**
 * Deleting seed rows that rows of the app depend on would take those along (ON DELETE CASCADE),
 * change them (SET NULL) or fail on a foreign key: refuse, as Prisma does for a schema change
 * that loses data, unless --accept-data-loss says to go ahead.
 */
async function refuseDataLoss(step: Step, tx: Sql, plan: SeedPlan): Promise<void> {
  const keys = await step<ForeignKey[]>(tx.unsafe(FOREIGN_KEYS_SQL))
  const found: { table: string; rows: number; effect: string; of: string }[] = []
  for (const fk of keys) {
    const query = dependentsSql(plan.seed, fk)
    if (!query) continue
    const [{ n }] = await step<{ n: number }[]>(tx.unsafe(query))
    if (n > 0) found.push({ table: fk.child, rows: n, of: fk.parent, effect: EFFECT[fk.onDelete] ?? 'would make the delete fail' })
  }
  if (found.length === 0 || plan.acceptDataLoss) return
  const total = found.reduce((sum, f) => sum + f.rows, 0)
  const [gone] = await step<{ users: number; categories: number; legacy: number }[]>(tx.unsafe(`
    select (select count(*)::int from users t where ${doomed(plan.seed, 'users', 't')}) as users,
           (select count(*)::int from categories t where ${doomed(plan.seed, 'categories', 't')}) as categories,
           (select count(*)::int from users t where ${legacy(plan.seed, 'users', 't')})
             + (select count(*)::int from categories t where ${legacy(plan.seed, 'categories', 't')}) as legacy`))
  const what = [plural(gone.users, 'user'), plural(gone.categories, 'category', 'categories')]
    .filter((x) => !x.startsWith('0 ')).concat(found.some((f) => f.of === 'todos') ? ['todos'] : []).join(' and ')
  // Why those rows go, so that the way to keep them is clear.
  const why = [
    gone.users + gone.categories > gone.legacy ? 'seed with as many --users/--categories as before to keep them' : '',
    gone.legacy > 0 ? `${plural(gone.legacy, 'row')} of them were seeded by an earlier todo-db (version-8 ids), which a re-seed replaces: move the app rows first` : '',
    found.some((f) => f.of === 'todos') ? 'a seed replaces all its todos on every run: move the app rows first' : '',
  ].filter(Boolean)
  throw failed(`seed ${plan.seed} would delete ${what} of its own that ${plural(total, 'row')} of the app ${total === 1 ? 'depends' : 'depend'} on ` +
    `(${found.map((f) => `${f.table}: ${f.rows} ${f.effect}`).join('; ')}); nothing was changed`, {
    code: 'SEED_DATA_LOSS',
    hint: [...why, 'or pass --accept-data-loss to let the app rows go too'].join('; '),
    data: { dependents: found },
  })
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

const OLD_TODOS = 'seed_old_todos'

/**
 * Deletes every todo of the seed (both id ranges); they are copied again. The deleted rows are
 * kept until commit, to tell afterwards which of them came back unchanged; returns their number.
 */
async function removeTodos(step: Step, tx: Sql, seed: number): Promise<number> {
  await step(tx.unsafe(`create temp table ${OLD_TODOS} (like todos) on commit drop`))
  const rows = await step<postgres.Row[]>(tx.unsafe(`
    with gone as (delete from todos t where ${ours(seed, 'todos', 't')} returning t.*)
    insert into ${OLD_TODOS} select * from gone`))
  return (rows as unknown as { count: number }).count
}

/** The seed's todos before and after, row by row (by id, then every column). */
async function compareTodos(step: Step, tx: Sql, seed: number): Promise<TableChanges> {
  const [c] = await step<TableChanges[]>(tx.unsafe(`
    select count(*) filter (where o.id is null)::int as inserted,
           count(*) filter (where o.id is not null and n.id is not null and row(o.*) is distinct from row(n.*))::int as updated,
           count(*) filter (where n.id is null)::int as deleted,
           count(*) filter (where o.id is not null and n.id is not null and row(o.*) is not distinct from row(n.*))::int as unchanged
      from ${OLD_TODOS} o full join (select * from todos t where ${ours(seed, 'todos', 't')}) n on n.id = o.id`))
  return c
}

/** Deletes the seed's rows of a table that this run no longer makes. */
async function remove(step: Step, tx: Sql, seed: number, table: Table): Promise<number> {
  const rows = await step<postgres.Row[]>(tx.unsafe(`delete from ${table} t where ${doomed(seed, table, 't')}`))
  return (rows as unknown as { count: number }).count
}

/** Inserts the staged rows that are new and updates those that differ; unchanged rows are not touched. */
async function upsert(step: Step, tx: Sql, table: Table, columns: readonly string[]): Promise<{ inserted: number; updated: number }> {
  const cols = columns.join(', ')
  const rest = columns.filter((c) => c !== 'id')
  // xmax = 0: the row version was inserted by this statement, not updated
  const [counts] = await step<{ inserted: number; updated: number }[]>(tx.unsafe(`
    with done as (
      insert into ${table} (${cols}) select ${cols} from ${stageOf(table)}
      on conflict (id) do update set ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}
      where (${rest.map((c) => `${table}.${c}`).join(', ')}) is distinct from (${rest.map((c) => `excluded.${c}`).join(', ')})
      returning xmax = 0 as inserted)
    select count(*) filter (where inserted)::int as inserted, count(*) filter (where not inserted)::int as updated from done`))
  return counts
}
