// Read-only views of the database's migration history: status and dry runs. They take no lock
// and create nothing, so a pooled URL is fine.
import { withSql } from '../db/connection.js'
import type { MigrationFile } from './files.js'
import { readJournal } from './journal.js'
import { inventory, type Inventory } from './plan.js'
import type { MigrateInput } from './input.js'

export async function readInventory(ctx: MigrateInput, files: MigrationFile[], table: string): Promise<Inventory> {
  const applied = await withSql(ctx.target(), { ...ctx.connectOptions(), applicationName: 'todo-db migrate' }, (sql) =>
    readJournal(sql, table))
  return inventory(files, applied)
}
