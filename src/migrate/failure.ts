// A failed migration as one line: the file, the line and column of the failing statement, the
// server's message with its DETAIL (HINT as the hint), the statement when the server gives no
// position, and what the failure left; never the whole SQL, never a stack.
import { relative } from 'node:path'
import { classifyError, isConnectionLost } from '../classify.js'
import { redact, TodoDbError } from '../errors.js'
import type { DbTarget } from '../db/url.js'
import { lineAndColumn, runsOutsideTransaction, type MigrationFile } from './files.js'
import { JOURNAL_SCHEMA } from './journal.js'
import type { Piece } from './runner-client.js'
import { maskSql, shortStatement } from './mask.js'

/** The string index after `n` characters (code points: PostgreSQL's unit for positions) of text. */
function indexAfterCharacters(text: string, n: number): number {
  let i = 0
  for (let k = 0; k < n && i < text.length; k++) i += (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1
  return i
}

/** Where in the file the server's 1-based `position` (in characters) inside the sent piece points. */
export function positionInFile(file: MigrationFile, piece: Piece, position: number): { line: number; column: number } | undefined {
  // The server counts from the start of what was sent, our own prefix (pipeline.ts GUARD) included.
  const n = position - (piece.prefix ?? 0)
  if (piece.at === undefined || !(n >= 1)) return undefined
  return lineAndColumn(file.content, piece.at + indexAfterCharacters(piece.text.slice(piece.prefix ?? 0), n - 1))
}

export interface FailureContext {
  cwd: string
  target: DbTarget
  direction: 'up' | 'down'
  file?: MigrationFile
  name?: string
  /** The piece of SQL that failed, as sent (runner-client.ts). */
  failed?: Piece
  /** The run was one transaction: nothing of any of its files remains. */
  wholeRun?: boolean
  /** The session was lost and the journal could not be read back: what was committed is unknown. */
  uncertain?: boolean
  table?: string
}

/** node-pg-migrate's own COMMIT, not a statement of the file. */
const isCommit = (p: Piece | undefined) => !!p && (!!p.commit || (p.at === undefined && !p.journal && /^\s*COMMIT;?\s*$/i.test(p.text)))

/** What the failure left in the database, said plainly. */
function aftermath(f: FailureContext, lost: boolean): string {
  if (f.file && runsOutsideTransaction(f.file)) {
    return 'it ran outside a transaction (todo-db:no-transaction), so check what it left (an INVALID index, say) before running it again'
  }
  const what = f.wholeRun ? 'run' : 'migration'
  // Lost while COMMIT was on its way: the server may have committed before the link went.
  if (f.uncertain) return `the server's answers were lost with the connection, so this ${what} and the files after it may or may not have been committed: see todo-db migrate status before running it again`
  if (lost && isCommit(f.failed)) return `the ${what} may or may not have been committed: see todo-db migrate status before running it again`
  if (lost) return `the server rolls the ${what} back with the session, nothing of it remains`
  return f.wholeRun ? 'the whole run was rolled back, the database is as before' : 'it was rolled back, nothing of it remains'
}

/** What failed, in the words of the message's head. */
function head(f: FailureContext, where: string, at: { line: number; column: number } | undefined): string {
  const p = f.failed
  const migration = `migration ${f.name} (${f.direction})`
  if (p?.journal) return `${migration} ran, but recording it in ${JOURNAL_SCHEMA}.${f.table ?? 'pgmigrations'} failed`
  // node-pg-migrate's own COMMIT: what fails there (a deferred constraint) has no line in a file.
  if (isCommit(p)) {
    return f.wholeRun ? `migrate ${f.direction} failed at the COMMIT of the run (the last file was ${where})` : `${migration} failed at its COMMIT (${where})`
  }
  return `${migration} failed at ${at ? `${where}:${at.line}:${at.column}` : where}`
}

/** Where the failing statement starts, and its text, when the piece is one statement of the file. */
function statementOf(f: FailureContext): { at: { line: number; column: number }; text: string } | undefined {
  if (!f.file || !f.failed?.statement || f.failed.at === undefined) return undefined
  return { at: lineAndColumn(f.file.content, f.failed.at), text: f.failed.text.slice(f.failed.prefix ?? 0) }
}

export function migrationFailure(e: unknown, f: FailureContext): TodoDbError {
  const base = classifyError(e, f.target)
  if (!f.name) return base
  const err = e as { position?: string; detail?: string }
  const where = f.file ? relative(f.cwd, f.file.path) || f.file.path : f.name
  const position = f.file && f.failed ? positionInFile(f.file, f.failed, Number(err.position)) : undefined
  // Without a position from the server (a constraint, a trigger's error), the statement's start,
  // and the statement itself in the message.
  const statement = statementOf(f)
  const at = position ?? statement?.at
  const shown = !position && statement ? ` (in "${shortStatement(statement.text)}")` : ''
  const lost = isConnectionLost(e)
  const detail = err.detail ? redact(err.detail) : undefined
  const cause = lost
    ? (base.code === 'STALLED' ? base.message : `the connection to ${f.target.host}:${f.target.port} was lost`)
    : `${base.message}${base.sqlState ? ` [${base.sqlState}]` : ''}${detail ? `: ${detail}` : ''}`
  return new TodoDbError(`${head(f, where, at)}${shown}: ${cause}; ${aftermath(f, lost)}`, {
    code: base.code === 'DB_ERROR' ? 'MIGRATION_FAILED' : base.code,
    exitCode: base.exitCode,
    hint: base.hint,
    sqlState: base.sqlState,
    cause: e,
    data: {
      migration: f.name, file: where, ...at, ...(statement ? { statement: maskSql(statement.text) } : {}),
      ...(detail ? { detail } : {}), ...(f.failed?.journal ? { journal: true } : {}),
    },
  })
}
