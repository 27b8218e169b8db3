import type { Context } from '../context.js'
import { parseDeadline } from '../duration.js'
import { ExitCode, TodoDbError, toTodoDbError } from '../errors.js'
import { checkHealth, failedReport, healthExitCode, type HealthReport } from '../db/health.js'

export async function run(ctx: Context, opts: { timeout: string }): Promise<number> {
  let report: HealthReport
  try {
    const deadline = parseDeadline(opts.timeout, '--timeout')
    report = await checkHealth(ctx.target(), deadline, ctx.out, ctx.signal)
  } catch (e) {
    if ((e as { code?: string })?.code === 'INTERRUPTED') throw e
    report = failedReport(toTodoDbError(e))
  }
  const c = ctx.out.color
  if (ctx.out.json || report.ok) {
    ctx.out.result(report, () =>
      `${c.green('accepting connections')}: ${report.host}, PostgreSQL ${report.server?.version}, ` +
      `${report.latencyMs} ms${report.ssl ? ', ssl' : ''}${report.pooled ? ', pooled' : ''}`)
  }
  // With --json too: the document is on stdout, and the one line on stderr, as every command does.
  if (!report.ok && report.error) {
    const { message, code, hint } = report.error
    ctx.out.error(new TodoDbError(`${report.status.replace('_', ' ')}: ${message}`, { code, exitCode: ExitCode.FAILED, hint }))
  }
  return healthExitCode(report)
}
