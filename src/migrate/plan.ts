// What is applied, pending or drifted, and which migrations a command would run. Pure functions.
import { relative } from 'node:path'
import { ExitCode, TodoDbError, badInput } from '../errors.js'
import type { MigrationFile } from './files.js'
import { textToKeep, type AppliedMigration } from './journal.js'

export type DriftKind = 'edited' | 'missing' | 'out_of_order'

export interface Drift {
  name: string
  kind: DriftKind
  message: string
  /** For "edited": the first line that differs from the applied text; null when that text was not kept. */
  difference?: FirstDifference | null
}

export interface FirstDifference {
  /** 1-based. */
  line: number
  /** The line as applied and as in the file now (secrets masked); null: that side ends before it. */
  applied: string | null
  now: string | null
}

export interface MigrationState {
  name: string
  file?: MigrationFile
  applied?: AppliedMigration
  /** true: file matches what was applied; false: edited or missing; null: not applied, or no checksum recorded. */
  checksumOk: boolean | null
}

export interface Inventory {
  /** Applied ones in the order they ran, then pending ones in file order. */
  migrations: MigrationState[]
  pending: MigrationFile[]
  drift: Drift[]
  /** Applied rows without a checksum whose file is present: recorded at the next run. */
  unrecorded: { name: string; file: MigrationFile }[]
  /** Applied rows whose file matches their checksum but whose text was not kept: kept at the next run. */
  textless: MigrationFile[]
}

export function inventory(files: MigrationFile[], applied: AppliedMigration[]): Inventory {
  const byName = new Map(files.map((f) => [f.name, f]))
  const appliedNames = new Set(applied.map((a) => a.name))
  const drift: Drift[] = []
  const unrecorded: Inventory['unrecorded'] = []
  const textless: MigrationFile[] = []
  const migrations: MigrationState[] = applied.map((a) => {
    const file = byName.get(a.name)
    if (!file) {
      drift.push({ name: a.name, kind: 'missing', message: `${a.name} was applied but its file is missing` })
      return { name: a.name, applied: a, checksumOk: false }
    }
    if (a.checksum === null) {
      unrecorded.push({ name: a.name, file })
      return { name: a.name, file, applied: a, checksumOk: null }
    }
    if (a.checksum !== file.checksum) {
      drift.push({ name: a.name, kind: 'edited', message: `${a.name} was edited after it was applied (${relative(process.cwd(), file.path) || file.path})` })
      return { name: a.name, file, applied: a, checksumOk: false }
    }
    if (!a.hasText && textToKeep(file) !== null) textless.push(file)
    return { name: a.name, file, applied: a, checksumOk: true }
  })

  const pending = files.filter((f) => !appliedNames.has(f.name))
  const lastAppliedIndex = Math.max(-1, ...files.map((f, i) => (appliedNames.has(f.name) ? i : -1)))
  for (const f of pending) {
    const i = files.indexOf(f)
    if (i < lastAppliedIndex) {
      drift.push({ name: f.name, kind: 'out_of_order', message: `${f.name} is pending but sorts before the applied ${files[lastAppliedIndex].name}` })
    }
    migrations.push({ name: f.name, file: f, checksumOk: null })
  }
  return { migrations, pending, drift, unrecorded, textless }
}

export function driftError(drift: Drift[]): TodoDbError {
  const first = drift[0]
  const more = drift.length > 1 ? ` (and ${drift.length - 1} more drift problem${drift.length > 2 ? 's' : ''})` : ''
  const hint: Record<DriftKind, string> = {
    edited: `review the edit (git diff / git log -p on the file); if the database already matches it, record the file as it is with todo-db migrate accept ${first.name}; otherwise restore the file and put the change in a new migration (todo-db migrate create)`,
    missing: 'restore the file from version control',
    out_of_order: 'rename it with a later timestamp (todo-db migrate create makes one)',
  }
  return new TodoDbError(`drift: ${first.message}${more}`, {
    code: 'DRIFT',
    exitCode: ExitCode.DRIFT,
    hint: hint[first.kind],
    data: { drift },
  })
}

export interface Selection {
  count?: number
  to?: string
  all?: boolean
}

/** Parses the [count] argument: a whole number of at least 1. */
export function parseCount(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) {
    throw badInput(`count "${raw}" is not a whole number of at least 1`, 'e.g. todo-db migrate up 2', 'BAD_COUNT')
  }
  return Number(raw)
}

/** The [count] argument and --to/--all as one selection, checked before anything connects. */
export function parseSelection(count: string | undefined, opts: { to?: string; all?: boolean }): Selection {
  const sel: Selection = { count: parseCount(count), to: opts.to, all: !!opts.all }
  onlyOne(sel)
  return sel
}

/** Accepts the name as recorded, or the file name with its extension. */
function resolveName(to: string, inv: Inventory): string {
  const known = inv.migrations.map((m) => m.name)
  const name = known.find((n) => n === to || n === to.replace(/\.[a-z]+$/i, ''))
  if (!name) {
    const some = known.length ? `known: ${known.slice(-5).join(', ')}${known.length > 5 ? ', ...' : ''}` : 'there are no migrations'
    throw badInput(`unknown migration "${to}"`, some, 'UNKNOWN_MIGRATION')
  }
  return name
}

function onlyOne(sel: Selection): void {
  const given = [sel.count !== undefined && 'a count', sel.to !== undefined && '--to', sel.all && '--all'].filter(Boolean)
  if (given.length > 1) throw badInput(`give one of ${given.join(' and ')}, not both`, undefined, 'USAGE')
}

/** The pending migrations `up` applies, in order. */
export function selectUp(inv: Inventory, sel: Selection): MigrationFile[] {
  onlyOne(sel)
  if (sel.to !== undefined) {
    const name = resolveName(sel.to, inv)
    const i = inv.pending.findIndex((f) => f.name === name)
    return i < 0 ? [] : inv.pending.slice(0, i + 1)
  }
  return inv.pending.slice(0, sel.count ?? inv.pending.length)
}

/** The applied migrations `down` reverts, last applied first. */
export function selectDown(inv: Inventory, sel: Selection): MigrationState[] {
  onlyOne(sel)
  const applied = inv.migrations.filter((m) => m.applied)
  if (sel.all) return applied.reverse()
  if (sel.to !== undefined) {
    const name = resolveName(sel.to, inv)
    const i = applied.findIndex((m) => m.name === name)
    if (i < 0) throw badInput(`--to ${sel.to}: that migration is not applied`, 'see todo-db migrate status', 'UNKNOWN_MIGRATION')
    return applied.slice(i + 1).reverse()
  }
  return applied.slice(-(sel.count ?? 1)).reverse()
}
