// node-pg-migrate's runner accepts any object with query(text, values) -> { rows }. This one runs
// every query on one reserved postgres.js connection (the session that holds the migration lock),
// can cancel the running statements when the command is interrupted, and remembers the piece of
// SQL that failed, and where it came from, so the error can point into the file.
import type postgres from 'postgres'
import { isConnectionLost } from '../classify.js'
import { interrupted } from '../errors.js'

/** What is sent for one query of node-pg-migrate (see engine.ts expand). */
export interface Piece {
  text: string
  values?: unknown[]
  /** Where `text` starts in the running migration's file (a string index), when it comes from it. */
  at?: number
  /** One statement of the file, as the parser cut it (else the whole section, or not the file's). */
  statement?: boolean
  /** node-pg-migrate's INSERT or DELETE in the migrations table, not the file's SQL. */
  journal?: boolean
  /** Characters of our own SQL before the file's text (pipeline.ts GUARD): not counted in positions. */
  prefix?: number
  /** The migration the piece belongs to (pipelined pieces). */
  migration?: string
  /** The end of the migration's transaction: its COMMIT (pipelined pieces). */
  commit?: boolean
  /** What --verbose shows in place of the text (a journal row without the file's whole text in it). */
  shown?: string
}

const shown = (p: Piece) => p.shown ?? p.text.slice(p.prefix ?? 0)

export interface RunnerClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number }>
  /**
   * Sends the pieces in order without waiting for answers (pipeline.ts), never more than a window
   * of them unanswered. Stops sending at the first failure or at abort(), and once every piece
   * in flight is answered, throws the first failure. `onDone` hears of each piece that succeeded.
   */
  send(pieces: Piece[], onDone?: (piece: Piece) => void): Promise<void>
  /** Cancels the running statement; every later query fails. `reason`: the signal's. */
  abort(reason?: unknown): void
  readonly aborted: boolean
  /** The piece that failed last (as sent). */
  readonly failed?: Piece
  /** The connection was lost during a query. */
  readonly lost: boolean
}

export interface RunnerClientOptions {
  /** The pieces to send for one of node-pg-migrate's queries (default: the query as it is). */
  expand?: (text: string, values: unknown[]) => Piece[]
  /** Each piece's SQL as it ran or failed (with a note saying how it failed), for --verbose. */
  log?: (sql: string, note?: string) => void
}

/**
 * Pieces unanswered at most: below postgres.js's max_pipeline (100), beyond which it queues
 * queries unsent, and enough to keep the server busy for a round trip of 100 ms or more.
 */
const WINDOW = 80

export function createRunnerClient(conn: postgres.ReservedSql, opts: RunnerClientOptions = {}): RunnerClient {
  const expand = opts.expand ?? ((text, values) => [{ text, values }])
  const log = opts.log ?? (() => {})
  // Queries sent and not yet answered, oldest first.
  const running: { cancel(): unknown }[] = []
  const settled = (q: { cancel(): unknown }, ok: boolean) => {
    running.splice(running.indexOf(q), 1)
    // After abort(), a statement that finished anyway (the cancel came between two statements)
    // hands the cancel on to the next; one that failed leaves the rest to fail after it.
    if (aborted && ok) cancelOldest()
  }
  // Only the oldest: postgres.js skips a query that is cancelled before it is sent, and sends
  // the ones after it, which must never happen to a statement in the middle of a file.
  // Only the oldest: cancelling one not yet sent makes postgres.js skip it and still send the rest.
  // Over a dead link the CancelRequest fails too: the statement's own error says what happened.
  const cancelOldest = () => void Promise.resolve(running[0]?.cancel()).catch(() => {})
  /** One piece on the wire: no parameters is the simple protocol, which runs a multi-statement text. */
  const issue = (p: Piece) => {
    // Never a named prepared statement: a transaction-mode pooler we were not told about
    // could run the next one on another server connection, where it does not exist.
    const q = conn.unsafe(p.text, (p.values ?? []) as postgres.ParameterOrJSON<never>[], { prepare: false })
    running.push(q)
    return q.then((rows) => (settled(q, true), rows), (e: unknown) => {
      settled(q, false)
      throw e
    })
  }
  const fail = (p: Piece, e: unknown, notRun: number) => {
    failed = p
    lost ||= isConnectionLost(e)
    log(shown(p), `-- failed: ${(e as Error).message}${notRun > 0 ? `\n-- not run: the ${notRun} statement(s) after it` : ''}`)
  }
  let aborted = false
  let abortReason: unknown
  let failed: Piece | undefined
  let lost = false
  return {
    async query(text, values = []) {
      if (aborted) throw interrupted(abortReason, 'nothing was changed')
      const pieces = expand(text, values)
      // Several pieces are sent at once (pipelined, one round trip); inside a transaction a
      // failure makes the server refuse the ones after it, and the first failure is the cause.
      const outcomes = await Promise.allSettled(pieces.map(issue))
      let result: postgres.RowList<postgres.Row[]> | undefined
      for (const [i, s] of outcomes.entries()) {
        if (s.status === 'fulfilled') {
          log(shown(pieces[i]))
          result = s.value
          continue
        }
        fail(pieces[i], s.reason, pieces.length - i - 1)
        throw s.reason
      }
      return { rows: Array.isArray(result) ? [...result] : [], rowCount: result?.count ?? 0 }
    },
    send(pieces, onDone) {
      if (aborted) return Promise.reject(interrupted(abortReason, 'nothing was changed'))
      return new Promise((resolve, reject) => {
        let next = 0
        let inFlight = 0
        let error: { e: unknown } | undefined
        const pump = () => {
          while (!error && !aborted && next < pieces.length && inFlight < WINDOW) {
            const piece = pieces[next++]
            inFlight++
            issue(piece).then(() => {
              inFlight--
              log(shown(piece))
              onDone?.(piece)
              pump()
            }, (e: unknown) => {
              inFlight--
              // The first failure is the cause; the server refused what came after it (25P02).
              if (!error) [error] = [{ e }, fail(piece, e, pieces.length - next)]
              pump()
            })
          }
          if (inFlight > 0) return
          if (error) reject(error.e)
          else if (next < pieces.length) reject(interrupted(abortReason, 'nothing was changed'))
          else resolve()
        }
        pump()
      })
    },
    abort(reason) {
      aborted = true
      abortReason = reason
      cancelOldest()
    },
    get aborted() {
      return aborted
    },
    get failed() {
      return failed
    },
    get lost() {
      return lost
    },
  }
}
