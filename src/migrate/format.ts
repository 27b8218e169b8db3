// Human text for migrate's results (--json prints the result objects as they are).
import { stripVTControlCharacters } from 'node:util'
import type { ChalkInstance } from 'chalk'
import type { RedoDryRun } from './redo.js'
import type { DryRunResult, RunResult } from './run.js'
import type { StatusReport } from './status.js'

export function formatRun(r: RunResult): string {
  const verb = r.direction === 'up' ? 'applied' : 'reverted'
  const lines = r.recorded.map((n) => `recorded the checksum of ${n} (applied before checksums were kept)`)
  if (r.migrations.length === 0) {
    lines.push(r.direction === 'up' ? 'nothing to apply: the database is up to date' : 'nothing to revert')
  }
  for (const m of r.migrations) lines.push(`${verb} ${m.name} (${m.ms} ms)`)
  return lines.join('\n')
}

export function formatDryRun(r: DryRunResult): string {
  if (r.migrations.length === 0) return `-- dry run: nothing to ${r.direction === 'up' ? 'apply' : 'revert'}`
  return r.migrations
    .map((m) => `-- dry run: migrate ${r.direction} ${m.name} (${m.transaction ? 'one transaction' : 'outside a transaction'})\n${m.sql ?? `-- (not a SQL file: its ${r.direction} code is not shown)`}`.trimEnd())
    .join('\n\n')
}

/** What redo does to the migrations it names: its question (confirm.ts) and its dry run say it alike. */
export const redoDoing = (n: number) => `migrate redo reverts (dropping what ${n === 1 ? 'it' : 'they'} made, data included) and re-applies`

/** The list redo would ask about, then each Down section in the order it would run, then each Up. */
export function formatRedoDryRun(r: RedoDryRun): string {
  if (r.destroys.length === 0) return '-- dry run: nothing to redo: no migration is applied'
  const head = [`-- dry run: ${redoDoing(r.destroys.length)}, in one transaction:`, ...r.destroys.map((n) => `--   ${n}`)].join('\n')
  const section = (direction: 'up' | 'down') => (m: { name: string; sql: string | null }) =>
    `-- ${direction} ${m.name}\n${m.sql ?? `-- (not a SQL file: its ${direction} code is not shown)`}`.trimEnd()
  return [head, ...r.down.map(section('down')), ...r.up.map(section('up'))].join('\n\n')
}

export function formatStatus(r: StatusReport, c: ChalkInstance): string {
  const drifted = new Map(r.drift.map((d) => [d.name, d.kind]))
  const rows = r.migrations.map((m) => {
    const kind = drifted.get(m.name)
    const state = kind ? c.red(kind.replace(/_/g, ' ').toUpperCase()) : m.applied ? c.green('applied') : c.yellow('pending')
    const when = m.appliedAt ? m.appliedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''
    return [state, when, m.name] as const
  })
  const width = (i: 0 | 1) => Math.max(0, ...rows.map((row) => stripAnsi(row[i]).length))
  const pad = (s: string, n: number) => s + ' '.repeat(n - stripAnsi(s).length)
  const [w0, w1] = [width(0), width(1)]
  const table = rows.map(([s, w, n]) => `${pad(s, w0)}  ${pad(w, w1)}  ${n}`.trimEnd())
  const applied = r.migrations.filter((m) => m.applied).length
  const summary = `${r.migrations.length} migrations: ${applied} applied, ${r.pending} pending${r.drift.length ? `, ${r.drift.length} drifted` : ''}`
  return [...table, summary].join('\n')
}

// Colours take no room on screen: widths are measured without them.
const stripAnsi = stripVTControlCharacters
