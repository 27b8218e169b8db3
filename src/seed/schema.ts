// Seed writes the app's tables: refuse a database without them, before changing anything.
import { ExitCode, TodoDbError } from '../errors.js'
import { CATEGORY_COLUMNS, TODO_COLUMNS, USER_COLUMNS } from './rows.js'

export const REQUIRED_COLUMNS: Record<string, readonly string[]> = {
  users: USER_COLUMNS,
  categories: CATEGORY_COLUMNS,
  todos: TODO_COLUMNS,
}

export type Query = (text: string) => Promise<readonly { table: string; column: string }[]>

/** Tables as the search_path resolves them (to_regclass), as the COPY statements will. */
const COLUMNS_SQL = `
  select c.relname as table, a.attname as column
  from pg_attribute a join pg_class c on c.oid = a.attrelid
  where c.oid in (${Object.keys(REQUIRED_COLUMNS).map((t) => `to_regclass('${t}')`).join(', ')})
    and a.attnum > 0 and not a.attisdropped`

/** What is missing, e.g. ["table todos", "column users.email"]; empty when the schema is there. */
export function missingSchema(found: readonly { table: string; column: string }[]): string[] {
  const have = new Set(found.map((r) => `${r.table}.${r.column}`))
  const tables = new Set(found.map((r) => r.table))
  return Object.entries(REQUIRED_COLUMNS).flatMap(([table, columns]) =>
    tables.has(table) ? columns.filter((c) => !have.has(`${table}.${c}`)).map((c) => `column ${table}.${c}`) : [`table ${table}`])
}

export async function assertMigrated(query: Query): Promise<void> {
  const missing = missingSchema(await query(COLUMNS_SQL))
  if (missing.length === 0) return
  throw new TodoDbError(`the database is not migrated: missing ${missing.join(', ')}`, {
    code: 'NOT_MIGRATED',
    exitCode: ExitCode.FAILED,
    hint: 'run `todo-db migrate up` first',
    data: { missing },
  })
}
