// Which rows are the seed's, which of them a run removes, and which rows of others depend on those.
// A seed's rows are found by id range (ids.ts): its version-4 range, and the version-8 range of
// earlier releases, whose rows a run replaces. Everything else (the app's rows, other seeds') is
// not ours: a run must never delete or change it without being told to.
import { idRange, legacyIdRange, type KindName } from './ids.js'

export const TABLES = { users: 'user', categories: 'category', todos: 'todo' } as const satisfies Record<string, KindName>
export type Table = keyof typeof TABLES

/**
 * How a run loads the seed's todos. 'replace': every todo of the seed is deleted and COPYed again,
 * straight into todos (the fast path: nothing of the app refers to them). 'merge': staged like
 * users and categories, then updated in place, so that the app's rows that refer to them stay.
 */
export type TodoLoad = 'replace' | 'merge'

/** Staging tables hold the rows this run makes: users and categories always, todos to merge (seed.ts). */
export const stageOf = (table: Table) => `seed_${table}`

/** SQL: the row `alias` is one of this seed's (either id range). Ids are our own hex: safe inline. */
export function ours(seed: number, table: Table, alias: string): string {
  const [a, b] = idRange(seed, TABLES[table])
  const [la, lb] = legacyIdRange(seed, TABLES[table])
  return `(${alias}.id between '${a}' and '${b}' or ${alias}.id between '${la}' and '${lb}')`
}

/** SQL: the row `alias` is one of this seed's with an id of an earlier release (version 8). */
export function legacy(seed: number, table: Table, alias: string): string {
  const [la, lb] = legacyIdRange(seed, TABLES[table])
  return `(${alias}.id between '${la}' and '${lb}')`
}

/**
 * SQL: the row `alias` is one this run deletes: a row of the seed that the run no longer makes
 * (fewer --users/--categories/--todos, legacy ids), found against the staged rows; with todos
 * loaded by 'replace', every todo of the seed (they are copied again).
 */
export function doomed(seed: number, table: Table, alias: string, todos: TodoLoad): string {
  if (table === 'todos' && todos === 'replace') return ours(seed, table, alias)
  return `(${ours(seed, table, alias)} and not exists (select 1 from ${stageOf(table)} s where s.id = ${alias}.id))`
}

export interface ForeignKey {
  child: string
  parent: string
  columns: string[]
  parentColumns: string[]
  /** pg_constraint.confdeltype: c cascade, n set null, d set default, a no action, r restrict. */
  onDelete: string
}

/** Every foreign key that points at users, categories or todos, with quoted column names (as json: no array types needed through a pooler). */
export const FOREIGN_KEYS_SQL = `
  select c.conrelid::regclass::text as child, c.confrelid::regclass::text as parent, c.confdeltype as "onDelete",
         to_json(array(select quote_ident(a.attname) from unnest(c.conkey) with ordinality k(n, i)
                 join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i)) as columns,
         to_json(array(select quote_ident(a.attname) from unnest(c.confkey) with ordinality k(n, i)
                 join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i)) as "parentColumns"
    from pg_constraint c
   where c.contype = 'f' and c.confrelid in (to_regclass('users'), to_regclass('categories'), to_regclass('todos'))
   order by 1, 2, c.conname`

const isTable = (name: string): name is Table => name in TABLES

/**
 * SQL counting the rows of the key's child that are not this seed's and point at a row this run
 * deletes: rows that would be deleted with it (cascade) or changed (set null), or make it fail.
 */
export function dependentsSql(seed: number, fk: ForeignKey, todos: TodoLoad): string | undefined {
  if (!isTable(fk.parent)) return undefined
  const notOurs = isTable(fk.child) ? `and not ${ours(seed, fk.child, 'r')}` : ''
  const on = fk.columns.map((c, i) => `r.${c} = p.${fk.parentColumns[i]}`).join(' and ')
  return `select count(*)::int as n from ${fk.parent} p join ${fk.child} r on ${on}
           where ${doomed(seed, fk.parent, 'p', todos)} ${notOurs}`
}

/** Tables that TRUNCATE ... CASCADE of the three would empty too (through chains of foreign keys). */
export const TRUNCATE_REACH_SQL = `
  with recursive reach(rel) as (
    select c.conrelid
      from pg_constraint c
     where c.contype = 'f' and c.confrelid in ('users'::regclass, 'categories'::regclass, 'todos'::regclass)
       and c.conrelid not in ('users'::regclass, 'categories'::regclass, 'todos'::regclass)
    union
    select c.conrelid
      from pg_constraint c join reach r on c.confrelid = r.rel
     where c.contype = 'f' and c.conrelid not in ('users'::regclass, 'categories'::regclass, 'todos'::regclass)
  )
  select distinct rel::regclass::text as "table" from reach order by 1`
