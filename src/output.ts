// One place for output. Results go to stdout (human text, or one JSON document with --json);
// logs, spinners and errors go to stderr. Everything passes through redact(), JSON values before
// they are serialised.
import type { ChalkInstance } from 'chalk'
import { redact, redactValue, type TodoDbError } from './errors.js'

// chalk is loaded only when colour is possible: scripts and CI (no TTY) skip its start-up cost.
const chalk = process.stderr.isTTY || process.stdout.isTTY ? await import('chalk') : undefined

/** A chalk look-alike that returns text unchanged, however its styles are chained. */
const plain: ChalkInstance = new Proxy(((...text: unknown[]) => text.join(' ')) as unknown as ChalkInstance, {
  get: (_target, prop) => (prop === 'level' ? 0 : plain),
})

export interface OutputOptions {
  json?: boolean
  quiet?: boolean
  verbose?: boolean
  color?: boolean
  stdout?: NodeJS.WritableStream & { isTTY?: boolean }
  stderr?: NodeJS.WritableStream & { isTTY?: boolean }
}

export interface Spinner {
  update(text: string): void
  succeed(text?: string): void
  fail(text?: string): void
  stop(): void
}

export interface Output {
  readonly json: boolean
  readonly quiet: boolean
  readonly verbose: boolean
  readonly interactive: boolean
  readonly color: ChalkInstance
  /** The command's result: `human` is printed unless --json, where `data` is printed instead. */
  result(data: unknown, human: string | (() => string)): void
  info(line: string): void
  warn(line: string): void
  debug(line: string): void
  error(err: TodoDbError): void
  /**
   * A workflow command for the CI runner (`::add-mask::...`): on stderr, as it is and whatever
   * --quiet says. The one line not redacted, since the runner must read the secret to mask it.
   */
  workflowCommand(line: string): void
  spinner(text: string): Promise<Spinner>
}

// --json prints exactly one document: a result, or else the error. One process runs one command,
// and may make more than one Output (the command's, the error path's, the crash handler's).
let documentWritten = false

export function createOutput(opts: OutputOptions = {}): Output {
  const stdout = opts.stdout ?? process.stdout
  const stderr = opts.stderr ?? process.stderr
  const json = !!opts.json
  const quiet = !!opts.quiet
  const verbose = !!opts.verbose && !quiet
  const useColor = opts.color !== false && !!stderr.isTTY && !process.env.NO_COLOR
  const color = useColor && chalk ? new chalk.Chalk({ level: 1 }) : plain
  // A pseudo-terminal without a size (docker -t, script -qc) reports 0 columns, where ora divides
  // by the width when it clears its line (it looped forever). Assume 80, as terminals start; a
  // real resize (SIGWINCH) sets the true width again.
  const tty = stderr as { isTTY?: boolean; columns?: number }
  if (tty.isTTY && !tty.columns) tty.columns = 80
  // Spinners only when a person is watching: a TTY, not --json, not --quiet, not CI.
  const interactive = !!stderr.isTTY && !json && !quiet && !process.env.CI

  const err = (line: string) => stderr.write(redact(line) + '\n')
  const writeDocument = (doc: unknown) => {
    if (documentWritten) return
    documentWritten = true
    stdout.write(JSON.stringify(redactValue(doc), null, 2) + '\n')
  }

  return {
    json,
    quiet,
    verbose,
    interactive,
    color,
    result(data, human) {
      if (json) {
        writeDocument(data)
        return
      }
      const text = typeof human === 'function' ? human() : human
      if (text) stdout.write(redact(text) + '\n')
    },
    info(line) {
      if (!quiet) err(line)
    },
    warn(line) {
      if (!quiet) err(color.yellow('warning: ') + line)
    },
    debug(line) {
      if (verbose) err(color.dim(line))
    },
    error(e) {
      if (json) {
        // A machine reading stdout still gets one JSON document it can parse (unless the command's
        // own document, which tells of the failure, is out already: health's report).
        writeDocument({ ok: false, error: e.toJSON() })
      }
      err(color.red('error: ') + e.message + (e.hint ? ` ${color.dim('(' + e.hint + ')')}` : ''))
    },
    workflowCommand(line) {
      stderr.write(line + '\n')
    },
    async spinner(text) {
      if (!interactive) {
        return { update() {}, succeed() {}, fail() {}, stop() {} }
      }
      const { default: ora } = await import('ora')
      const s = ora({ text: redact(text), stream: stderr as NodeJS.WritableStream & { isTTY: boolean } }).start()
      return {
        update: (t) => void (s.text = redact(t)),
        succeed: (t) => void s.succeed(t === undefined ? undefined : redact(t)),
        fail: (t) => void s.fail(t === undefined ? undefined : redact(t)),
        stop: () => void s.stop(),
      }
    },
  }
}
