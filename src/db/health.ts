// Is the database accepting connections? pg_isready's answer, with a little more detail.
import { Deadline } from '../duration.js'
import { classifyError } from '../classify.js'
import { ExitCode, type ErrorCode, type TodoDbError } from '../errors.js'
import type { Output } from '../output.js'
import { connect, usesTls, withinDeadline } from './connection.js'
import type { DbTarget } from './url.js'

export type HealthStatus = 'accepting' | 'rejecting' | 'no_response' | 'no_attempt'

export interface HealthReport {
  ok: boolean
  status: HealthStatus
  latencyMs: number
  server?: { version: string }
  ssl: boolean
  pooled: boolean
  host?: string
  error?: { code: ErrorCode; message: string; hint?: string; sqlState?: string }
}

const STATUS_BY_EXIT: Record<number, HealthStatus> = {
  [ExitCode.OK]: 'accepting',
  [ExitCode.FAILED]: 'rejecting',
  [ExitCode.NO_RESPONSE]: 'no_response',
  [ExitCode.BAD_INPUT]: 'no_attempt',
}

export function healthExitCode(report: HealthReport): number {
  const entry = Object.entries(STATUS_BY_EXIT).find(([, s]) => s === report.status)
  return Number(entry?.[0] ?? ExitCode.FAILED)
}

export function failedReport(err: TodoDbError, target?: DbTarget, latencyMs = 0): HealthReport {
  return {
    ok: false,
    status: STATUS_BY_EXIT[err.exitCode] ?? 'rejecting',
    latencyMs,
    ssl: false,
    pooled: target?.pooled ?? false,
    ...(target ? { host: `${target.host}:${target.port}` } : {}),
    error: err.toJSON() as HealthReport['error'],
  }
}

/** Connects (retrying while the server refuses or is starting) and runs a trivial query, all by the deadline. */
export async function checkHealth(target: DbTarget, deadline: Deadline, out?: Output, signal?: AbortSignal): Promise<HealthReport> {
  const started = performance.now()
  const latency = () => Math.round((performance.now() - started) * 10) / 10
  let sql
  try {
    sql = await connect(target, { deadline, out, signal, applicationName: 'todo-db health' })
    const [row] = await withinDeadline(
      sql<{ version: string }[]>`select current_setting('server_version') as version`,
      deadline,
      target,
    )
    return {
      ok: true,
      status: 'accepting',
      latencyMs: latency(),
      server: { version: row.version },
      ssl: usesTls(sql),
      pooled: target.pooled,
      host: `${target.host}:${target.port}`,
    }
  } catch (e) {
    const error = classifyError(e, target)
    if (error.code === 'INTERRUPTED') throw error // not a report on the server: exit 130/143
    return failedReport(error, target, latency())
  } finally {
    // Never wait on a server that stopped answering: the deadline is hard.
    void sql?.end({ timeout: 0 }).catch(() => {})
  }
}
