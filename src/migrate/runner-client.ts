// node-pg-migrate's runner accepts any object with query(text, values) -> { rows }. This one runs
// every query on one reserved postgres.js connection (the session that holds the migration lock),
// can cancel the running statements when the command is interrupted, and remembers the piece of
// SQL that failed, and where it came from, so the error can point into the file.
import type postgres from 'postgres'
import { interrupted } from '../errors.js'

const LOST = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'])

/**
 * The session is gone: nothing more may be sent on it (postgres.js throws from a timer when a
 * reserved connection writes after its socket closed), and the server rolls back and unlocks.
 */
export function isConnectionLost(e: unknown): boolean {
  for (let x = e as { code?: string; cause?: unknown } | undefined; x; x = x.cause as typeof x) {
    if (LOST.has(x.code ?? '')) return true
  }
  return false
}

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
}

export interface RunnerClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number }>
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
  /** Each piece as it ran or failed, for --verbose. */
  log?: (line: string) => void
}

export function createRunnerClient(conn: postgres.ReservedSql, opts: RunnerClientOptions = {}): RunnerClient {
  const expand = opts.expand ?? ((text, values) => [{ text, values }])
  const log = opts.log ?? (() => {})
  let running: { cancel(): unknown }[] = []
  let aborted = false
  let abortReason: unknown
  let failed: Piece | undefined
  let lost = false
  return {
    async query(text, values = []) {
      if (aborted) throw interrupted(abortReason, 'nothing was changed')
      const pieces = expand(text, values)
      // No parameters: postgres.js uses the simple protocol, which runs a multi-statement text.
      // Several pieces are sent at once (pipelined, one round trip); inside a transaction a
      // failure makes the server refuse the ones after it, and the first failure is the cause.
      // Never a named prepared statement: a transaction-mode pooler we were not told about
      // could run the next one on another server connection, where it does not exist.
      const sent = pieces.map((p) => conn.unsafe(p.text, (p.values ?? []) as postgres.ParameterOrJSON<never>[], { prepare: false }))
      running = sent
      const settled = await Promise.allSettled(sent)
      running = []
      let result: postgres.RowList<postgres.Row[]> | undefined
      for (const [i, s] of settled.entries()) {
        if (s.status === 'fulfilled') {
          log(pieces[i].text)
          result = s.value
          continue
        }
        failed = pieces[i]
        lost ||= isConnectionLost(s.reason)
        log(`${pieces[i].text}\n-- failed: ${(s.reason as Error).message}`)
        if (i + 1 < pieces.length) log(`-- not run: the ${pieces.length - i - 1} statement(s) after it`)
        throw s.reason
      }
      return { rows: Array.isArray(result) ? [...result] : [], rowCount: result?.count ?? 0 }
    },
    abort(reason) {
      aborted = true
      abortReason = reason
      for (const q of running) void q.cancel()
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
