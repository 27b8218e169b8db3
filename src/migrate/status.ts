// migrate status: every migration, applied or pending, and what drifted.
import { relative } from 'node:path'
import { loadMigrationFiles } from './files.js'
import type { Drift } from './plan.js'
import { readInventory } from './read.js'
import type { MigrateSettings } from './settings.js'
import type { MigrateInput } from './input.js'

export interface StatusEntry {
  name: string
  applied: boolean
  appliedAt: string | null
  /** true: unchanged since applied; false: edited or missing; null: pending, or applied before checksums were kept. */
  checksumOk: boolean | null
  file: string | null
}

export interface StatusReport {
  migrations: StatusEntry[]
  pending: number
  drift: Drift[]
}

export async function migrationStatus(ctx: MigrateInput, settings: MigrateSettings): Promise<StatusReport> {
  const files = await loadMigrationFiles(settings.dir)
  const inv = await readInventory(ctx, files, settings.table)
  return {
    migrations: inv.migrations.map((m) => ({
      name: m.name,
      applied: !!m.applied,
      appliedAt: m.applied ? m.applied.appliedAt.toISOString() : null,
      checksumOk: m.checksumOk,
      file: m.file ? relative(ctx.cwd, m.file.path) || m.file.path : null,
    })),
    pending: inv.pending.length,
    drift: inv.drift,
  }
}
