// Writes connection URLs into a dotenv file without disturbing anything else in it:
// other keys, comments, blank lines and their order stay as they were.
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, fchmodSync, lstatSync, openSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { parseEnv } from 'node:util'
import { badInput } from '../errors.js'

/** New values by key; `undefined` removes the key. */
export type EnvUpdates = Record<string, string | undefined>

export interface EnvFileChange {
  path: string
  /** When the env file is a symbolic link: the file it points to, which is what was written. */
  target?: string
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
 * The file an env file's contents live in: the path itself, or the file a symbolic link there points
 * to. A link is written through (its target replaced, the link kept), as editors do, so a .env
 * linked to a shared secrets file stays linked. Anything but a regular file is bad input, checked
 * before a command does anything else: a directory or a dangling link would only fail at the end.
 */
export function envFileTarget(path: string): { real: string; linked: boolean; exists: boolean } {
  let st
  try {
    st = lstatSync(path)
  } catch {
    return { real: path, linked: false, exists: false }
  }
  let real = path
  if (st.isSymbolicLink()) {
    try {
      real = realpathSync(path)
      st = statSync(real)
    } catch {
      throw badInput(`${path} is a symbolic link to ${readlinkSync(path)}, which does not exist`,
        'create the file it points to, or remove the link', 'ENV_FILE_NOT_A_FILE')
    }
  }
  if (!st.isFile()) {
    throw badInput(`${path} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}, so the connection string cannot be written to it`,
      'remove it, or name another file with --env-file', 'ENV_FILE_NOT_A_FILE')
  }
  return { real, linked: real !== path, exists: true }
}

/**
 * Writes `text` to `path` by way of a new file beside it, renamed over it: a crash never leaves half
 * a file. The temporary name is random and created exclusively (O_EXCL, which also refuses to follow
 * a symbolic link), so nobody can plant a link there to have the secret written elsewhere.
 */
export function replaceFile(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`)
  const fd = openSync(temp, 'wx', 0o600)
  try {
    try {
      // The umask may have taken bits off, never added: set 0600 exactly.
      fchmodSync(fd, 0o600)
      writeSync(fd, text)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, path)
  } catch (e) {
    rmSync(temp, { force: true })
    throw e
  }
}

/**
 * Merges the updates into the file (created if missing). The file ends up readable by its owner
 * only, since it holds passwords; it is replaced in one rename so a crash never leaves half a file.
 */
export function writeEnvFile(path: string, updates: EnvUpdates): EnvFileChange {
  const { real, linked, exists } = envFileTarget(path)
  const before = exists ? readFileSync(real, 'utf8') : ''
  const { text, set, removed } = mergeEnvText(before, updates)
  replaceFile(real, text)
  return { path, ...(linked ? { target: real } : {}), created: !exists, set, removed }
}

/** The value of a key in a dotenv file, if the file and key exist. */
export function readEnvValue(path: string, key: string): string | undefined {
  if (!existsSync(path) || !statSync(path).isFile()) return undefined
  return (parseEnv(readFileSync(path, 'utf8')) as Record<string, string>)[key]
}
