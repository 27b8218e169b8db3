// Many migrations in flight at once, each still in a transaction of its own.
//
// Over a network the round trips, not the SQL, decide how long a migrate run takes (issue 14):
// node-pg-migrate waits for BEGIN, the SQL, the journal row and COMMIT of each file in turn.
// Here every statement of every file is one simple-query message, and the messages of the whole
// run are sent without waiting for answers (pipelined), a file's journal row and COMMIT among them.
// What keeps that as safe as one file at a time:
// - PostgreSQL answers messages in order and, inside a transaction block, refuses every statement
//   after a failed one (25P02) until the block ends: a failure in file k leaves its transaction
//   aborted, and the ROLLBACK we send after it undoes file k alone. Files before k are committed.
// - A COMMIT that fails (a deferred constraint, a serialization failure) ends the block, and
//   the statements after it would then each commit on their own. So each message starts with a
//   guard that fails outside a transaction block: SAVEPOINT (25P01 outside a block, 25P02 in a
//   failed one). After a failed COMMIT, every later message fails at its guard; nothing runs.
//   Deferred constraints are checked just before COMMIT (SET CONSTRAINTS ALL IMMEDIATE), inside
//   the transaction, so their failure names the file like any other.
// - Each statement is its own message, so the first failing answer names the statement, with
//   or without a position from the server; the journal row is written in the file's transaction.
// - A file's transaction is opened by the COMMIT message of the file before (COMMIT; BEGIN), so
//   no message runs between two files outside a transaction.
import { JOURNAL_SCHEMA, textToKeep } from './journal.js'
import type { MigrationFile } from './files.js'
import type { Piece } from './runner-client.js'
import type { Section } from './statements.js'

/**
 * Fails outside a transaction block (25P01) and in a failed one (25P02); in a live one it costs
 * a subtransaction that is released at once. The savepoint's name is ours: files may not use
 * savepoints (statements.ts refuses transaction control in a file that runs in a transaction).
 */
export const GUARD = 'SAVEPOINT todo_db_pipeline; RELEASE SAVEPOINT todo_db_pipeline; '

/** A string literal that reads the same whatever standard_conforming_strings says. */
export function literal(s: string): string {
  return `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
}

const sqlText = (s: string | null) => (s === null ? 'NULL' : literal(s))

/** The journal statement of one file, inline (a multi-statement message takes no parameters). */
export function journalSql(direction: 'up' | 'down', table: string, file: MigrationFile, content = sqlText(textToKeep(file))): string {
  const t = `"${JOURNAL_SCHEMA}"."${table}"`
  return direction === 'up'
    ? `INSERT INTO ${t} (name, run_on, checksum, content) VALUES (${literal(file.name)}, NOW(), ${literal(file.checksum)}, ${content})`
    : `DELETE FROM ${t} WHERE name = ${literal(file.name)}`
}

export interface PipelinePlan {
  direction: 'up' | 'down'
  table: string
  /** One transaction for every file (--single-transaction): one BEGIN, one COMMIT. */
  singleTransaction: boolean
  files: { file: MigrationFile; section: Section }[]
}

const guarded = (p: Omit<Piece, 'prefix'> & { text: string }): Piece => ({ ...p, text: GUARD + p.text, prefix: GUARD.length })

/**
 * The messages for a run of SQL files that each run in a transaction: BEGIN, then per file its
 * statements, its journal row, and the COMMIT that also opens the next file's transaction.
 */
export function pipelinePieces(plan: PipelinePlan): Piece[] {
  const pieces: Piece[] = [{ text: 'BEGIN;' }]
  plan.files.forEach(({ file, section }, i) => {
    const last = i === plan.files.length - 1
    const migration = file.name
    if (section.statements) {
      for (const st of section.statements) pieces.push(guarded({ text: st.text, at: section.offset + st.start, statement: true, migration }))
    } else if (section.sql.trim()) {
      // The parser refused it: sent whole, the server refuses it before running any of it.
      pieces.push(guarded({ text: section.sql, at: section.offset, migration }))
    }
    // --verbose shows the row without the file's text, which it has just shown statement by statement.
    const shown = journalSql(plan.direction, plan.table, file, '<the text of the file>')
    pieces.push(guarded({ text: journalSql(plan.direction, plan.table, file), journal: true, migration, shown }))
    if (!plan.singleTransaction || last) {
      pieces.push(guarded({ text: `SET CONSTRAINTS ALL IMMEDIATE; COMMIT${last ? '' : '; BEGIN'}`, commit: true, migration }))
    }
  })
  return pieces
}
