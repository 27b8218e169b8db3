// The bin's entry: wires signals and crash handling around run() (src/cli.ts) and is the one
// place that calls process.exit.
import { ExitCode, redact, signalExitCode, toTodoDbError } from './errors.js'
import { createOutput } from './output.js'
import { jsonRequested, run } from './cli.js'

/** The bin's entry: wires signals, runs, exits. */
export async function main(argv: string[]): Promise<void> {
  const controller = new AbortController()
  let signalled: NodeJS.Signals | undefined
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) process.exit(signalExitCode(sig))
    signalled = sig
    controller.abort(sig)
    // Commands roll back and return within a second (the connection layer closes a connection that
    // does not answer); this is the backstop if one does not, and it still says why it stops.
    setTimeout(() => {
      process.stderr.write(`error: interrupted (${sig}): stopped without waiting for the clean-up; the server rolls back what was not committed\n`)
      process.exit(signalExitCode(sig))
    }, 10_000).unref()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // Last line of defence: a driver callback that throws after its socket died must still end in
  // one redacted line and a documented exit code, never a stack trace.
  const onCrash = (e: unknown) => {
    const err = toTodoDbError(e)
    // With --json, the failure document too, unless the command's own is out already.
    createOutput({ json: jsonRequested(argv.slice(2)) }).error(err)
    if (process.env.TODO_DB_DEBUG && e instanceof Error && e.stack) process.stderr.write(redact(e.stack) + '\n')
    process.exit(signalled ? signalExitCode(signalled) : err.exitCode)
  }
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)

  // Node exits with 0 when nothing is left to wait for, even while run() is pending (a promise
  // that no socket or timer will ever settle): that must never pass for success.
  const orphaned = () => {
    process.stderr.write(signalled ? `error: interrupted (${signalled})\n` : 'error: internal: the command stopped without a result\n')
    process.exit(signalled ? signalExitCode(signalled) : ExitCode.FAILED)
  }
  process.once('beforeExit', orphaned)
  let code = await run({ argv: argv.slice(2), signal: controller.signal })
  process.removeListener('beforeExit', orphaned)
  if (signalled && code !== ExitCode.OK) code = signalExitCode(signalled)
  // Exit once stdout is flushed; a socket left half-open (a blackholed host) must not keep us alive.
  process.stdout.write('', () => process.exit(code))
}

