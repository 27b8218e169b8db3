// The seed's own rows, table by table: staged, upserted, removed, and counted as they change.
import type postgres from 'postgres'
import type { Sql } from '../db/connection.js'
import { doomed, ours, stageOf, type Table, type TodoLoad } from './ownership.js'
import type { Copy, Step } from './step.js'

/** What a run did to one table's rows (the seed's, and all of them with --reset). */
export interface TableChanges {
  inserted: number
  updated: number
  deleted: number
  unchanged: number
}

/** Copies the rows this run makes into a staging table (dropped at commit); returns their number. */
export async function stage(step: Step, tx: Sql, copy: Copy, table: Table, columns: readonly string[], lines: Iterable<string>): Promise<number> {
  // Identifiers are our own constants. The key: every join with the staged rows (which are never
  // analysed) finds a row by index, whatever plan the statistics of the real table lead to.
  await step(tx.unsafe(`create temp table ${stageOf(table)} (like ${table}, primary key (id)) on commit drop`))
  return copy(stageOf(table), columns, lines, table)
}

const OLD_TODOS = 'seed_old_todos'

/**
 * Deletes every todo of the seed (both id ranges); they are copied again. The deleted rows are
 * kept until commit, to tell afterwards which of them came back unchanged; returns their number.
 */
export async function removeTodos(step: Step, tx: Sql, seed: number): Promise<number> {
  await step(tx.unsafe(`create temp table ${OLD_TODOS} (like todos) on commit drop`))
  const rows = await step<postgres.Row[]>(tx.unsafe(`
    with gone as (delete from todos t where ${ours(seed, 'todos', 't')} returning t.*)
    insert into ${OLD_TODOS} select * from gone`))
  return (rows as unknown as { count: number }).count
}

/** The seed's todos before and after a 'replace', row by row (by id, then every column). */
export async function compareTodos(step: Step, tx: Sql, seed: number): Promise<TableChanges> {
  const [c] = await step<TableChanges[]>(tx.unsafe(`
    select count(*) filter (where o.id is null)::int as inserted,
           count(*) filter (where o.id is not null and n.id is not null and row(o.*) is distinct from row(n.*))::int as updated,
           count(*) filter (where n.id is null)::int as deleted,
           count(*) filter (where o.id is not null and n.id is not null and row(o.*) is not distinct from row(n.*))::int as unchanged
      from ${OLD_TODOS} o full join (select * from todos t where ${ours(seed, 'todos', 't')}) n on n.id = o.id`))
  return c
}

/**
 * SQL: the seed's columns of two rows differ. Not updated_at: the table's trigger owns it (an
 * UPDATE stamps now() there, whatever we write), so a row the seed put back or moved to another day
 * keeps the stamp of that run; comparing it would take the stamp for a change, and every later
 * run with the same flags would update the row again.
 */
const differs = (columns: readonly string[], a: string, b: string) => {
  const compared = columns.filter((c) => c !== 'id' && c !== 'updated_at')
  return `(${compared.map((c) => `${a}.${c}`).join(', ')}) is distinct from (${compared.map((c) => `${b}.${c}`).join(', ')})`
}

/**
 * The staged rows against the table's, before the run changes anything: new, differing and equal
 * rows (as upsert() will judge them). With 'merge', deletes of surplus categories set the category
 * of kept todos to null on the way, so counting what upsert() then does would say less.
 */
export async function compareStaged(step: Step, tx: Sql, table: Table, columns: readonly string[]): Promise<Omit<TableChanges, 'deleted'>> {
  const [c] = await step<Omit<TableChanges, 'deleted'>[]>(tx.unsafe(`
    select count(*) filter (where t.id is null)::int as inserted,
           count(*) filter (where t.id is not null and ${differs(columns, 't', 's')})::int as updated,
           count(*) filter (where t.id is not null and not ${differs(columns, 't', 's')})::int as unchanged
      from ${stageOf(table)} s left join ${table} t on t.id = s.id`))
  return c
}

/**
 * Deletes the seed's rows of a table that this run no longer makes. `unless`: SQL naming rows of
 * `t` to leave for now (apply.ts: users that kept todos still belong to).
 */
export async function remove(step: Step, tx: Sql, seed: number, table: Table, todos: TodoLoad, unless?: string): Promise<number> {
  const rows = await step<postgres.Row[]>(tx.unsafe(`delete from ${table} t where ${doomed(seed, table, 't', todos)}${unless ? ` and not (${unless})` : ''}`))
  return (rows as unknown as { count: number }).count
}

/** Inserts the staged rows that are new and updates those that differ; unchanged rows are not touched. */
export async function upsert(step: Step, tx: Sql, table: Table, columns: readonly string[]): Promise<{ inserted: number; updated: number }> {
  const cols = columns.join(', ')
  const rest = columns.filter((c) => c !== 'id')
  // xmax = 0: the row version was inserted by this statement, not updated
  const [counts] = await step<{ inserted: number; updated: number }[]>(tx.unsafe(`
    with done as (
      insert into ${table} (${cols}) select ${cols} from ${stageOf(table)}
      on conflict (id) do update set ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}
      where ${differs(columns, table, 'excluded')}
      returning xmax = 0 as inserted)
    select count(*) filter (where inserted)::int as inserted, count(*) filter (where not inserted)::int as updated from done`))
  return counts
}
