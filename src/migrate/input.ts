// What migrate's core gets from the command that runs it, named one by one (as seed and provision
// take theirs), not the CLI's whole Context: a test or another command can call it directly.
import type { ConnectOptions } from '../db/connection.js'
import type { DbTarget } from '../db/url.js'
import type { Output } from '../output.js'

export interface MigrateInput {
  /** Paths in results and messages are shown relative to it. */
  cwd: string
  out: Output
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal
  /** The database; session: a direct connection, as the lock and DDL need. */
  target(opts?: { session?: boolean }): DbTarget
  /** Per connection: a connect deadline that starts when asked for, the signal, the stall watchdog. */
  connectOptions(): Pick<ConnectOptions, 'deadline' | 'out' | 'signal' | 'stallMs' | 'cwd'>
}
