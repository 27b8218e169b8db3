// node-pg-migrate's runner accepts any object with query(text, values) -> { rows }. This one runs
// every query on one reserved postgres.js connection (the session that holds the migration lock),
// can cancel the running statement when the command is interrupted, and remembers the statement
// that failed so the error can point into the file.
import type postgres from 'postgres'
import { interrupted } from './lock.js'

export interface RunnerClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number }>
  /** Cancels the running statement; every later query fails. */
  abort(): void
  readonly aborted: boolean
  /** The text of the statement that failed last (as sent). */
  readonly failedText?: string
}

export function createRunnerClient(conn: postgres.ReservedSql, rewrite: (text: string) => string = (t) => t): RunnerClient {
  let running: { cancel(): unknown } | undefined
  let aborted = false
  let failedText: string | undefined
  return {
    async query(text, values = []) {
      if (aborted) throw interrupted()
      const sent = rewrite(text)
      // No parameters: postgres.js uses the simple protocol, which runs a multi-statement file.
      const q = conn.unsafe(sent, values as postgres.ParameterOrJSON<never>[])
      running = q
      try {
        const rows = await q
        return { rows: Array.isArray(rows) ? [...rows] : [], rowCount: rows?.count ?? 0 }
      } catch (e) {
        failedText = sent
        throw e
      } finally {
        running = undefined
      }
    },
    abort() {
      aborted = true
      void running?.cancel()
    },
    get aborted() {
      return aborted
    },
    get failedText() {
      return failedText
    },
  }
}
