// The statements of a migration's SQL, as PostgreSQL's own parser cuts them (parser.ts), so
// that strings, comments, dollar quotes and function bodies never fool us.
import { relative } from 'node:path'
import { badInput } from '../errors.js'
import { lineAndColumn, runsOutsideTransaction, sectionSql, type MigrationFile } from './files.js'
import { shortStatement } from './mask.js'
import { loadParser, type PgQuery } from './parser.js'

export interface Statement {
  /** UTF-16 offsets into the section's text (JavaScript string indices), end exclusive. */
  start: number
  end: number
  text: string
  /** BEGIN, COMMIT, SAVEPOINT, PREPARE TRANSACTION...: the parser's TransactionStmt. */
  transactionControl: boolean
}

export interface Section {
  /** Where the section starts in the file's text. */
  offset: number
  sql: string
  /** undefined: the parser refused the text (see parseStatements). */
  statements?: Statement[]
}

/**
 * The statements of `sql`, or undefined when the parser cannot parse it. Then the server gets
 * the text as it is and reports the syntax error with its position, as for any migration: the
 * server parses a whole multi-statement query before running any of it, so such a file runs
 * nothing, and nothing of it can end the transaction. (The parser is PostgreSQL 18's grammar:
 * text it accepts that an older server refuses is likewise refused by the server.)
 */
export async function parseStatements(sql: string): Promise<Statement[] | undefined> {
  const { parseSync } = await loadParser()
  let tree: ReturnType<PgQuery['parseSync']>
  try {
    tree = parseSync(sql)
  } catch {
    return undefined
  }
  // The parser's locations are UTF-8 byte offsets; statements start and end on whole characters.
  const bytes = Buffer.from(sql, 'utf8')
  let [atByte, atIndex] = [0, 0]
  const indexOf = (byte: number) => {
    atIndex += bytes.subarray(atByte, byte).toString('utf8').length
    atByte = byte
    return atIndex
  }
  return (tree.stmts ?? []).map((s) => {
    const from = s.stmt_location ?? 0
    // stmt_len 0: up to the end of the text (the last statement without a ";").
    const to = s.stmt_len ? from + s.stmt_len : bytes.length
    const start = indexOf(from)
    const end = indexOf(to)
    return { start, end, text: sql.slice(start, end), transactionControl: !!s.stmt && 'TransactionStmt' in s.stmt }
  })
}

const cache = new WeakMap<MigrationFile, Map<string, Promise<Section | undefined>>>()

/** The section one direction runs, with its statements; undefined for a file that is not SQL. */
export function sectionOf(file: MigrationFile, direction: 'up' | 'down'): Promise<Section | undefined> {
  let byDirection = cache.get(file)
  if (!byDirection) cache.set(file, (byDirection = new Map()))
  let section = byDirection.get(direction)
  if (!section) {
    section = (async () => {
      const sql = await sectionSql(file, direction)
      if (sql === undefined) return undefined
      return { offset: file.content.indexOf(sql), sql, statements: await parseStatements(sql) }
    })()
    byDirection.set(direction, section)
  }
  return section
}

/**
 * A migration that runs in a transaction must not end it: a COMMIT in the middle makes what
 * came before permanent with no journal row (and, with --single-transaction, commits the files
 * before it), while we would report it all rolled back. Savepoints are refused too: a ROLLBACK TO
 * would silently undo part of a file we then record as applied. A file that must manage its own
 * transactions says so with -- todo-db:no-transaction. Checked for every file of the run before
 * the first one is applied. (JavaScript migrations' SQL is built at run time: not checked.)
 */
export async function refuseTransactionControl(plan: MigrationFile[], direction: 'up' | 'down', cwd: string): Promise<void> {
  for (const file of plan) {
    if (runsOutsideTransaction(file)) continue
    const section = await sectionOf(file, direction)
    const control = section?.statements?.find((s) => s.transactionControl)
    if (!section || !control) continue
    const { line } = lineAndColumn(file.content, section.offset + control.start)
    const where = relative(cwd, file.path) || file.path
    throw badInput(
      `${where}:${line}: "${shortStatement(control.text)}" would end or split the transaction ${file.name} runs in; nothing was run`,
      'remove it (todo-db runs each migration in a transaction of its own), or put the line "-- todo-db:no-transaction" in a file that must manage its own transactions',
      'TRANSACTION_CONTROL',
    )
  }
}
