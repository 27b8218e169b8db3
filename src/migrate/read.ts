// Read-only views of the database's migration history: status and dry runs. They take no lock
// and create nothing, so a pooled URL is fine.
import { withSql } from '../db/connection.js'
import type { MigrationFile } from './files.js'
import { readJournal } from './journal.js'
import { inventory, type Inventory } from './plan.js'
import { explainEdits } from './drift.js'
import { MIGRATE_APPLICATION_NAME } from './session.js'
import type { MigrateInput } from './input.js'

export async function readInventory(ctx: MigrateInput, files: MigrationFile[], table: string): Promise<Inventory> {
  return withSql(ctx.target(), { ...ctx.connectOptions(), applicationName: MIGRATE_APPLICATION_NAME }, async (sql) => {
    const inv = inventory(files, await readJournal(sql, table))
    await explainEdits(sql, table, inv)
    return inv
  })
}
