// migrate accept: after reviewing an applied migration's edit (a comment, a reformat, a fix that
// was also made by hand), record the file as it is now, so drift stops refusing runs. Never
// implicit: one named migration per call, and it says what it replaced.
import { relative } from 'node:path'
import type { MigrateInput } from './input.js'
import { badInput } from '../errors.js'
import { loadMigrationFiles } from './files.js'
import { ensureJournal, readJournal, recordFiles } from './journal.js'
import { explainEdits } from './drift.js'
import { inventory, type FirstDifference } from './plan.js'
import { withMigrationLock } from './session.js'
import type { MigrateSettings } from './settings.js'

export interface AcceptResult {
  name: string
  file: string
  /** false: the recorded checksum already matched the file; nothing was written. */
  accepted: boolean
  /** The checksum recorded before (null: none was kept) and now. */
  previous: string | null
  checksum: string
  /** What the accepted edit changed (its first differing line); null when the applied text was not kept. */
  difference?: FirstDifference | null
}

export async function acceptMigration(ctx: MigrateInput, settings: MigrateSettings, given: string): Promise<AcceptResult> {
  const files = await loadMigrationFiles(settings.dir)
  return withMigrationLock(ctx, settings, async ({ conn }) => {
    const inv = inventory(files, await readJournal(conn, settings.table))
    await explainEdits(conn, settings.table, inv)
    const name = given.replace(/\.[a-z]+$/i, '')
    const m = inv.migrations.find((x) => x.name === given || x.name === name)
    if (!m) throw badInput(`unknown migration "${given}"`, 'see todo-db migrate status for the names', 'UNKNOWN_MIGRATION')
    if (!m.applied) throw badInput(`${m.name} is not applied: there is nothing to accept`, 'todo-db migrate up applies it', 'NOT_APPLIED')
    if (!m.file) {
      throw badInput(`${m.name} is applied but its file is missing: there is nothing to accept`,
        'restore the file from version control', 'MIGRATION_FILE_MISSING')
    }
    const result = { name: m.name, file: relative(ctx.cwd, m.file.path) || m.file.path, previous: m.applied.checksum, checksum: m.file.checksum }
    if (m.applied.checksum === m.file.checksum) return { ...result, accepted: false }
    await ensureJournal(conn, settings.table)
    await recordFiles(conn, settings.table, [m.file])
    const drift = inv.drift.find((d) => d.name === m.name)
    return { ...result, accepted: true, ...(drift && 'difference' in drift ? { difference: drift.difference } : {}) }
  })
}
