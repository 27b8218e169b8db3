// A failed migration as one line: the file, the line and column of the failing statement,
// and the server's message; never the whole SQL, never a stack.
import { relative } from 'node:path'
import { classifyError } from '../db/connection.js'
import { TodoDbError } from '../errors.js'
import type { DbTarget } from '../db/url.js'
import { lineAndColumn, runsOutsideTransaction, type MigrationFile } from './files.js'
import { isConnectionLost } from './runner-client.js'

/** Where in the file the server's 1-based `position` inside the sent statement points. */
export function positionInFile(file: MigrationFile, sentText: string, position: number): { line: number; column: number } | undefined {
  // node-pg-migrate appends ";" to a section that does not end with one.
  const body = file.content.includes(sentText) ? sentText : sentText.replace(/;$/, '')
  const start = file.content.indexOf(body)
  if (start < 0 || !(position >= 1)) return undefined
  return lineAndColumn(file.content, start + position - 1)
}

export interface FailureContext {
  cwd: string
  target: DbTarget
  direction: 'up' | 'down'
  file?: MigrationFile
  name?: string
  sentText?: string
  /** The run was one transaction: nothing of any of its files remains. */
  wholeRun?: boolean
}

/** What the failure left in the database, said plainly. */
function aftermath(f: FailureContext, lost: boolean): string {
  if (f.file && runsOutsideTransaction(f.file)) {
    return 'it ran outside a transaction (todo-db:no-transaction), so check what it left (an INVALID index, say) before running it again'
  }
  const what = f.wholeRun ? 'run' : 'migration'
  if (lost) return `the server rolls the ${what} back with the session, nothing of it remains`
  return f.wholeRun ? 'the whole run was rolled back, the database is as before' : 'it was rolled back, nothing of it remains'
}

export function migrationFailure(e: unknown, f: FailureContext): TodoDbError {
  const base = classifyError(e, f.target)
  if (!f.name) return base
  const position = Number((e as { position?: string }).position)
  const where = f.file ? relative(f.cwd, f.file.path) || f.file.path : f.name
  const at = f.file && f.sentText ? positionInFile(f.file, f.sentText, position) : undefined
  const loc = at ? `${where}:${at.line}:${at.column}` : where
  const lost = isConnectionLost(e)
  const cause = lost ? (base.code === 'STALLED' ? base.message : `the connection to ${f.target.host}:${f.target.port} was lost`) : `${base.message}${base.sqlState ? ` [${base.sqlState}]` : ''}`
  return new TodoDbError(`migration ${f.name} (${f.direction}) failed at ${loc}: ${cause}; ${aftermath(f, lost)}`, {
    code: base.code === 'DB_ERROR' ? 'MIGRATION_FAILED' : base.code,
    exitCode: base.exitCode,
    hint: base.hint,
    sqlState: base.sqlState,
    cause: e,
    data: { migration: f.name, file: where, ...(at ?? {}) },
  })
}
