// node-pg-migrate's runner accepts any object with query(text, values) -> { rows }. This one runs
// every query on one reserved postgres.js connection (the session that holds the migration lock),
// can cancel the running statement when the command is interrupted, and remembers the statement
// that failed so the error can point into the file.
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

export interface RunnerClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number }>
  /** Cancels the running statement; every later query fails. `reason`: the signal's. */
  abort(reason?: unknown): void
  readonly aborted: boolean
  /** The text of the statement that failed last (as sent). */
  readonly failedText?: string
  /** The connection was lost during a query. */
  readonly lost: boolean
}

export function createRunnerClient(conn: postgres.ReservedSql, rewrite: (text: string) => string = (t) => t): RunnerClient {
  let running: { cancel(): unknown } | undefined
  let aborted = false
  let abortReason: unknown
  let failedText: string | undefined
  let lost = false
  return {
    async query(text, values = []) {
      if (aborted) throw interrupted(abortReason, 'nothing was changed')
      const sent = rewrite(text)
      // No parameters: postgres.js uses the simple protocol, which runs a multi-statement file.
      const q = conn.unsafe(sent, values as postgres.ParameterOrJSON<never>[])
      running = q
      try {
        const rows = await q
        return { rows: Array.isArray(rows) ? [...rows] : [], rowCount: rows?.count ?? 0 }
      } catch (e) {
        failedText = sent
        lost ||= isConnectionLost(e)
        throw e
      } finally {
        running = undefined
      }
    },
    abort(reason) {
      aborted = true
      abortReason = reason
      // Over a dead link the CancelRequest fails too: the statement's own error says what happened.
      void Promise.resolve(running?.cancel()).catch(() => {})
    },
    get aborted() {
      return aborted
    },
    get failedText() {
      return failedText
    },
    get lost() {
      return lost
    },
  }
}
