// migrate baseline: adopt a database made without todo-db (the app's create_all or Alembic, a
// restored dump). Records pending migrations as applied without running them, as Flyway's
// baseline and Prisma's `migrate resolve --applied` do, but only after checking that what each
// one creates is there: a wrong guess would make `migrate up` skip work that was never done.
import { relative } from 'node:path'
import type { MigrateInput } from './input.js'
import { TodoDbError, badInput, ExitCode } from '../errors.js'
import { isPlainSql, loadMigrationFiles, type MigrationFile } from './files.js'
import { ensureJournal, readJournal, textToKeep, JOURNAL_SCHEMA } from './journal.js'
import { explainEdits } from './drift.js'
import { createdObjects, missingObjects, type DbObject } from './objects.js'
import { driftError, inventory, selectUp } from './plan.js'
import { withMigrationLock } from './session.js'
import type { MigrateSettings } from './settings.js'
import { sectionOf } from './statements.js'

export interface BaselineResult {
  /** The migrations recorded as applied, each with the objects found for it. */
  baselined: { name: string; objects: { kind: string; name: string }[] }[]
}

/** The Up sections of the plan, or exit 3 for a file whose objects cannot be read. */
async function upSections(plan: MigrationFile[], cwd: string): Promise<{ migration: string; sql: string }[]> {
  const out: { migration: string; sql: string }[] = []
  for (const f of plan) {
    const where = relative(cwd, f.path) || f.path
    const section = isPlainSql(f) ? await sectionOf(f, 'up') : undefined
    if (!section) {
      throw badInput(`${where}: baseline reads SQL migrations only; what ${f.name} creates cannot be checked`,
        'baseline up to the migration before it (--to NAME), then apply or record the rest yourself', 'BASELINE_UNCHECKABLE')
    }
    if (!section.statements) {
      throw badInput(`${where}: its Up section does not parse, so what it creates cannot be checked`,
        'fix the SQL (todo-db migrate up --dry-run shows it), then baseline again', 'BASELINE_UNCHECKABLE')
    }
    out.push({ migration: f.name, sql: section.sql })
  }
  return out
}

function mismatch(missing: DbObject[]): TodoDbError {
  const shown = missing.slice(0, 3).map((o) => `${o.kind} ${o.name} (${o.migration})`).join(', ')
  const more = missing.length > 3 ? ` and ${missing.length - 3} more` : ''
  return new TodoDbError(`baseline refused: the database lacks ${missing.length === 1 ? 'an object' : `${missing.length} objects`} the migrations create: ${shown}${more}; nothing was recorded`, {
    code: 'BASELINE_MISMATCH',
    exitCode: ExitCode.FAILED,
    hint: 'baseline --to the last migration the database does match, then todo-db migrate up for the rest',
    data: { missing: missing.map((o) => ({ migration: o.migration, kind: o.kind, name: o.name })) },
  })
}

export async function baseline(ctx: MigrateInput, settings: MigrateSettings, to: string | undefined): Promise<BaselineResult> {
  const files = await loadMigrationFiles(settings.dir)
  return withMigrationLock(ctx, settings, async ({ conn }) => {
    const inv = inventory(files, await readJournal(conn, settings.table))
    await explainEdits(conn, settings.table, inv)
    if (inv.drift.length) throw driftError(inv.drift)
    const plan = selectUp(inv, { to })
    if (plan.length === 0) return { baselined: [] }
    const objects = await createdObjects(await upSections(plan, ctx.cwd))
    const missing = await missingObjects(conn, objects)
    if (missing.length) throw mismatch(missing)
    await ensureJournal(conn, settings.table)
    // One transaction: every migration recorded, or none.
    await conn`begin`
    try {
      for (const f of plan) {
        await conn`insert into ${conn(JOURNAL_SCHEMA)}.${conn(settings.table)} (name, run_on, checksum, content) values (${f.name}, now(), ${f.checksum}, ${textToKeep(f)})`
      }
      await conn`commit`
    } catch (e) {
      await conn`rollback`.catch(() => {})
      throw e
    }
    return {
      baselined: plan.map((f) => ({ name: f.name, objects: objects.filter((o) => o.migration === f.name).map((o) => ({ kind: o.kind, name: o.name })) })),
    }
  })
}
