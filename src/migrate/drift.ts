// What an edit of an applied migration changed: the first line where the file differs from the
// text that was applied (kept in the journal's content column), so the drift message shows the
// change itself and the user can judge it before accepting it or moving it into a new migration.
import { readAppliedTexts, type Queryable } from './journal.js'
import type { Drift, FirstDifference, Inventory } from './plan.js'
import { maskSql } from './mask.js'
import { loadParser } from './parser.js'

const lines = (text: string) => text.replace(/\r\n/g, '\n').split('\n')

/** What a line that holds (part of) a secret shows instead. */
export const SECRET_LINE = '(this line holds a secret: not shown)'

/**
 * The line as it may be shown. A secret is found in its statement, not in one line of it (PASSWORD
 * on one line, its literal on the next): a line that the masking of the whole text changed is not
 * shown at all.
 */
function shownLine(line: string, text: string): string {
  return lines(maskSql(text)).includes(line) ? maskSql(line) : SECRET_LINE
}

/** The first line (1-based) where the texts differ; null for a side that has no such line. Undefined when equal. */
export function firstDifference(applied: string, now: string): FirstDifference | undefined {
  const a = lines(applied)
  const b = lines(now)
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      // Secrets stay out of messages and JSON, here as in every printed statement.
      return { line: i + 1, applied: i < a.length ? shownLine(a[i], applied) : null, now: i < b.length ? shownLine(b[i], now) : null }
    }
  }
  return undefined
}

// Control, format and separator characters print as nothing or move the cursor: shown escaped,
// so an edit that only added a BOM, a tab or a no-break space is still visible.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u00a0\u2000-\u200a\u202f\u205f\u3000]/gu
const escape = (s: string) => s.replace(INVISIBLE, (c) => (c === '\t' ? '\\t' : `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`))

const WIDTH = 70

/** One side of the difference for a one-line message: quoted, escaped, cut to a window around `from`. */
function shown(line: string | null, from: number): string {
  if (line === null) return '(end of file)'
  const text = escape(line)
  if (text.length <= WIDTH) return `"${text}"`
  const start = Math.max(0, Math.min(from - 20, text.length - WIDTH))
  return `"${start > 0 ? '...' : ''}${text.slice(start, start + WIDTH)}${start + WIDTH < text.length ? '...' : ''}"`
}

/** "line 12 was "...", now "..."": the first difference said in one line. */
export function describeDifference(d: FirstDifference): string {
  const a = d.applied === null ? null : escape(d.applied)
  const b = d.now === null ? null : escape(d.now)
  if (a !== null && a === b) return `line ${d.line} changed; it holds a secret, so it is not shown`
  let from = 0
  if (a !== null && b !== null) while (from < a.length && a[from] === b[from]) from++
  return `line ${d.line} was ${shown(d.applied, from)}, now ${shown(d.now, from)}`
}

/**
 * Adds to each "edited" drift what changed, from the applied text kept in the journal: one query,
 * only when something drifted. Rows applied before the text was kept say so instead.
 */
export async function explainEdits(sql: Queryable, table: string, inv: Inventory): Promise<void> {
  const edited = inv.drift.filter((d) => d.kind === 'edited')
  if (edited.length === 0) return
  const byName = new Map(inv.migrations.map((m) => [m.name, m]))
  const kept = edited.filter((d) => byName.get(d.name)?.applied?.hasText).map((d) => d.name)
  const texts = await readAppliedTexts(sql, table, kept)
  // The masking reads SQL with PostgreSQL's own scanner; without it, it shows less, never more.
  await loadParser().catch(() => {})
  for (const d of edited) explain(d, texts.get(d.name) ?? null, byName.get(d.name)?.file?.content)
}

function explain(d: Drift, applied: string | null, now: string | undefined): void {
  if (now === undefined) return
  if (applied === null) {
    d.difference = null
    d.message += ': the applied text was not kept (applied by an older todo-db or node-pg-migrate, or over 1 MiB), so git log -p on the file shows the change'
    return
  }
  const difference = firstDifference(applied, now)
  if (difference) d.difference = difference
  d.message += difference
    ? `: ${describeDifference(difference)}`
    : ': the text is the same line for line, so the change is in its bytes (line endings, encoding)'
}
