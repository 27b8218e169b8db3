// Writing a run's rows once users and categories are staged, in one of two orders, by how the
// seed's todos are loaded (ownership.ts TodoLoad). Both delete surplus categories before they
// upsert (a user's category names are unique whatever the case, and another --categories gives
// some of them other names) and legacy users before they upsert (their e-mails are the same).
import type { Sql } from '../db/connection.js'
import { ours } from './ownership.js'
import { CATEGORY_COLUMNS, TODO_COLUMNS, USER_COLUMNS } from './rows.js'
import type { Step } from './step.js'
import { compareStaged, compareTodos, remove, removeTodos, upsert, type TableChanges } from './tables.js'

type Staged = 'users' | 'categories'

export interface Applied {
  deleted: Record<Staged, number>
  upserted: Record<Staged, { inserted: number; updated: number }>
  /** The todos this run made. */
  todos: number
  /** Relative to the todos of the seed before the run (those --reset emptied aside). */
  todoChanges: TableChanges
}

export interface Writer {
  step: Step
  tx: Sql
  seed: number
}

const upsertStaged = async ({ step, tx }: Writer) => ({
  users: await upsert(step, tx, 'users', USER_COLUMNS),
  categories: await upsert(step, tx, 'categories', CATEGORY_COLUMNS),
})

/**
 * The fast path: every todo of the seed is deleted, then COPYed again straight into todos (which
 * `copyTodos` does, deferring its checks when the table is left empty: bulkload.ts). Only when no
 * row of the app refers to a seed todo: the deletes take nothing of the app's along.
 */
export async function replaceTodos(w: Writer, copyTodos: () => Promise<number>): Promise<Applied> {
  const { step, tx, seed } = w
  const oldTodos = await removeTodos(step, tx, seed)
  // categories first: a surplus user's categories are surplus too
  const deleted = {
    categories: await remove(step, tx, seed, 'categories', 'replace'),
    users: await remove(step, tx, seed, 'users', 'replace'),
  }
  const upserted = await upsertStaged(w)
  const todos = await copyTodos()
  const todoChanges = oldTodos === 0
    ? { inserted: todos, updated: 0, deleted: 0, unchanged: 0 }
    : await compareTodos(step, tx, seed)
  return { deleted, upserted, todos, todoChanges }
}

/**
 * Rows of the app refer to seed todos: the staged todos are merged as users and categories are.
 * A todo the run still makes keeps its id (and the rows that refer to it): updated where it
 * differs, not touched where it does not. Only surplus todos are deleted (refuseDataLoss checked
 * those). A kept todo may belong to a user the run no longer makes (fewer --users: the todos are
 * spread again): that user goes only once the todo has moved to its new owner, or ON DELETE
 * CASCADE would take the todo, and what refers to it, along.
 */
export async function mergeTodos(w: Writer, staged: number): Promise<Applied> {
  const { step, tx, seed } = w
  const { inserted, updated, unchanged } = await compareStaged(step, tx, 'todos', TODO_COLUMNS)
  const surplus = await remove(step, tx, seed, 'todos', 'merge')
  const ownsKeptTodos = `exists (select 1 from todos x where x.user_id = t.id and ${ours(seed, 'todos', 'x')})`
  const deleted = {
    categories: await remove(step, tx, seed, 'categories', 'merge'),
    users: await remove(step, tx, seed, 'users', 'merge', ownsKeptTodos),
  }
  const upserted = await upsertStaged(w)
  await upsert(step, tx, 'todos', TODO_COLUMNS)
  deleted.users += await remove(step, tx, seed, 'users', 'merge')
  return { deleted, upserted, todos: staged, todoChanges: { inserted, updated, deleted: surplus, unchanged } }
}
