// Loading into an empty table the way pg_restore does: drop its foreign keys and plain indexes,
// COPY, then build each index with one sort and check each foreign key with one join. Per row,
// PostgreSQL would otherwise insert into every index and run one query per foreign key (after-row
// triggers); for 300k todos that is half the time of the whole seed.
//
// Same transaction, so a failure or a signal restores the definitions with everything else; same
// end state: the same definitions (pg_get_*def), names and comments, and every foreign key checked
// against every row (a NOT VALID one stays NOT VALID). Only when the table has no rows (a fresh
// database, --reset, or only this seed's rows, just deleted) and we own it: otherwise the rebuild
// would cost more than it saves, or we may not alter the table, and rows go the ordinary way.
// Unique indexes and those behind constraints stay: they are not ours to defer.

export type Run = (text: string) => Promise<readonly Record<string, unknown>[]>

interface Deferred {
  drop: string
  restore: string
  comment: string | null
}

const definitionsSql = (table: string) => `
  select format('alter table %s drop constraint %I', c.conrelid::regclass, c.conname) as drop,
         format('alter table %s add constraint %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) as restore,
         (select format('comment on constraint %I on %s is %L', c.conname, c.conrelid::regclass, d.description)
            from pg_description d where d.objoid = c.oid and d.classoid = 'pg_constraint'::regclass) as comment,
         2 as restore_order
    from pg_constraint c
   where c.conrelid = '${table}'::regclass and c.contype = 'f'
  union all
  select format('drop index %s', i.indexrelid::regclass),
         pg_get_indexdef(i.indexrelid),
         (select format('comment on index %s is %L', i.indexrelid::regclass, d.description)
            from pg_description d where d.objoid = i.indexrelid and d.classoid = 'pg_class'::regclass),
         1
    from pg_index i
   where i.indrelid = '${table}'::regclass and not i.indisunique and not i.indisprimary and i.indisvalid
     and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)
   order by restore_order`

/**
 * Drops the table's foreign keys and plain indexes when it is empty and ours; returns what puts
 * them back (indexes first, then the foreign keys, checked), or undefined when nothing was deferred.
 */
export async function deferChecks(run: Run, table: string): Promise<(() => Promise<void>) | undefined> {
  const [state] = await run(`
    select not exists (select 1 from ${table}) as empty, pg_has_role(c.relowner, 'USAGE') as owned
      from pg_class c where c.oid = '${table}'::regclass`)
  if (!state?.empty || !state.owned) return undefined
  const deferred = (await run(definitionsSql(table))) as unknown as Deferred[]
  if (deferred.length === 0) return undefined
  for (const d of [...deferred].reverse()) await run(d.drop)
  return async () => {
    for (const d of deferred) {
      await run(d.restore)
      if (d.comment) await run(d.comment)
    }
  }
}
