// Statistics the planner can trust before the seed joins its tables. Autovacuum analyses a table
// about a minute after a big load; until then PostgreSQL plans with the row count it last saw.
// A re-seed right after a seed of 300k todos into a todos table that held one row (the app's)
// believed categories and todos held one row each, and counted the app's todos in surplus
// categories (dataloss.ts) with a nested loop: 3000 categories times a scan of 240k todos, four
// minutes. As autovacuum would, only sooner: each of the three tables whose row count the planner
// has badly wrong is analysed in the seed's transaction.
import type { Output } from '../output.js'
import type { Sql } from '../db/connection.js'
import type { Step } from './step.js'

/** Below this many rows off, a wrong plan costs milliseconds: no analysis (default seeds never need one). */
export const MIN_ROWS_OFF = 10_000

// The planner's count (reltuples, -1: never counted, then it estimates from the table's size)
// against the live rows the server counts as rows come and go: off by autovacuum's share, with a
// higher floor. Not "rows changed since": a re-seed that replaces its todos changes them all and
// leaves the count right. Only tables we own: ANALYZE would skip the others with a warning.
const STALE_SQL = `
  select c.oid::regclass::text as "table", c.reltuples::float8 as counted, s.n_live_tup::float8 as live
    from pg_class c join pg_stat_user_tables s on s.relid = c.oid
   where c.oid in (to_regclass('users'), to_regclass('categories'), to_regclass('todos'))
     and c.reltuples >= 0
     and abs(s.n_live_tup - c.reltuples) > ${MIN_ROWS_OFF} + current_setting('autovacuum_analyze_scale_factor')::float8 * c.reltuples
     and pg_has_role(c.relowner, 'USAGE')
   order by 1`

/** Analyses the seed's tables whose row count the planner has badly wrong; returns their names. */
export async function analyseStale(step: Step, tx: Sql, out?: Output): Promise<string[]> {
  const stale = await step<{ table: string; counted: number; live: number }[]>(tx.unsafe(STALE_SQL))
  for (const { table, counted, live } of stale) {
    out?.debug(`${table}: the planner counts ${counted} rows, there are about ${live}; analysing it first`)
    // the name comes quoted from regclass::text
    await step(tx.unsafe(`analyze ${table}`))
  }
  return stale.map((s) => s.table)
}
