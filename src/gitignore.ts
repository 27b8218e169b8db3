// Keeps files with secrets (and the local database) out of git.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export type GitignoreChange = 'created' | 'updated' | 'kept'

/** Adds the entries that .gitignore in `cwd` does not list yet; says what it did. */
export function ensureGitignored(cwd: string, entries: string[]): { change: GitignoreChange; added: string[] } {
  const path = join(cwd, '.gitignore')
  const text = existsSync(path) ? readFileSync(path, 'utf8') : ''
  // "/.env", ".env" and ".todo-db" vs ".todo-db/" ignore the same thing at the top level.
  const norm = (l: string) => l.trim().replace(/^\//, '').replace(/\/$/, '')
  const present = new Set(text.split(/\r?\n/).map(norm))
  const added = entries.filter((e) => !present.has(norm(e)))
  if (!added.length) return { change: 'kept', added }
  const sep = text === '' || text.endsWith('\n') ? '' : '\n'
  writeFileSync(path, `${text}${sep}${text ? '\n' : ''}# todo-db: secrets and the local database\n${added.join('\n')}\n`)
  return { change: text ? 'updated' : 'created', added }
}
