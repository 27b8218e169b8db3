// Writes connection URLs into a dotenv file without disturbing anything else in it:
// other keys, comments, blank lines and their order stay as they were.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { parseEnv } from 'node:util'

/** New values by key; `undefined` removes the key. */
export type EnvUpdates = Record<string, string | undefined>

export interface EnvFileChange {
  path: string
  created: boolean
  /** Keys whose value was added or changed. */
  set: string[]
  /** Keys whose line was removed. */
  removed: string[]
}

const ASSIGNMENT = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*)$/

/**
 * A dotenv value as written: bare when that reads back the same, else in a quote it does not contain
 * (dotenv parsers, Node's included, have no escape for a quote inside quotes).
 */
export function formatValue(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./?&~-]*$/.test(value)) return value
  if (value.includes('\n')) return `"${value.replace(/\n/g, '\\n')}"`
  const quote = ["'", '"', '`'].find((q) => !value.includes(q)) ?? '"'
  return `${quote}${value}${quote}`
}

/** How many lines an assignment takes, its own included: a quoted value may run over several. */
function assignmentSpan(lines: string[], index: number, value: string): number {
  const quote = value[0]
  if (quote !== '"' && quote !== "'" && quote !== '`') return 1
  if (value.length > 1 && value.slice(1).includes(quote)) return 1
  for (let j = index + 1; j < lines.length; j++) {
    if (lines[j].includes(quote)) return j - index + 1
  }
  return 1
}

/** Replaces, adds or removes keys in the text of a dotenv file; every other line is kept. */
export function mergeEnvText(text: string, updates: EnvUpdates): { text: string; set: string[]; removed: string[] } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/)
  const out: string[] = []
  const seen = new Set<string>()
  const set: string[] = []
  const removed: string[] = []

  for (let i = 0; i < lines.length; i++) {
    const m = ASSIGNMENT.exec(lines[i])
    if (!m || !(m[2] in updates)) {
      out.push(lines[i])
      continue
    }
    const [original, prefix, key, sep, value] = m
    i += assignmentSpan(lines, i, value) - 1
    const next = updates[key]
    // A key given twice: the later one would win when read back, so keep only the first, updated.
    if (seen.has(key)) continue
    seen.add(key)
    if (next === undefined) {
      removed.push(key)
      continue
    }
    const line = `${prefix}${key}${sep}${formatValue(next)}`
    out.push(line)
    if (line !== original) set.push(key)
  }
  for (const [key, value] of Object.entries(updates)) {
    if (seen.has(key) || value === undefined) continue
    out.push(`${key}=${formatValue(value)}`)
    set.push(key)
  }
  return { text: out.length ? out.join(eol) + eol : '', set, removed }
}

/**
 * Merges the updates into the file (created if missing). The file ends up readable by its owner
 * only, since it holds passwords; it is replaced in one rename so a crash never leaves half a file.
 */
export function writeEnvFile(path: string, updates: EnvUpdates): EnvFileChange {
  const created = !existsSync(path)
  const before = created ? '' : readFileSync(path, 'utf8')
  const { text, set, removed } = mergeEnvText(before, updates)
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  writeFileSync(temp, text, { mode: 0o600 })
  chmodSync(temp, 0o600)
  renameSync(temp, path)
  return { path, created, set, removed }
}

/** The value of a key in a dotenv file, if the file and key exist. */
export function readEnvValue(path: string, key: string): string | undefined {
  if (!existsSync(path)) return undefined
  return (parseEnv(readFileSync(path, 'utf8')) as Record<string, string>)[key]
}
