// Commands that destroy data ask first. On a terminal: the list of what will go, then "[y/N]" on
// stderr, the answer read from stdin. Without one (CI, a pipe) or with --json (a script is reading
// stdout, no person is there to answer) only --yes lets them go on; otherwise exit 3 in one line.
import { createInterface } from 'node:readline'
import type { Context } from './context.js'
import { ExitCode, TodoDbError, interrupted, redact } from './errors.js'

export interface Destruction {
  /** The command and what it does to the items: "seed --reset empties", "migrate down reverts". */
  doing: string
  /** One line per thing that goes: "todos (300,000 rows)", a migration's name. */
  items: string[]
  /** --yes was given. */
  yes?: boolean
}

export interface ConfirmIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
}

const processIo = (): ConfirmIo => ({ stdin: process.stdin, stderr: process.stderr })

/** Resolves when the command may go on; throws (exit 3, 1 or 130/143) when it may not. */
export async function confirmDestruction(ctx: Context, d: Destruction, io: ConfirmIo = processIo()): Promise<void> {
  if (d.yes) return
  const data = { destroys: d.items }
  if (ctx.out.json || !io.stdin.isTTY || !io.stderr.isTTY) {
    const why = ctx.out.json ? 'with --json there is no prompt' : 'no terminal to ask on'
    throw new TodoDbError(`${d.doing} ${inOneLine(d.items)}: pass --yes to go ahead (${why})`,
      { code: 'CONFIRMATION_REQUIRED', exitCode: ExitCode.BAD_INPUT, data })
  }
  // A person sees that nothing happened; a script still needs --yes, the same on every run.
  if (d.items.length === 0) return
  const write = (text: string) => io.stderr.write(redact(text))
  write(`${d.doing}:\n${d.items.map((i) => `  ${i}\n`).join('')}`)
  const answer = await ask(ctx, io, 'Go ahead? [y/N] ')
  if (!/^\s*y(es)?\s*$/i.test(answer)) {
    throw new TodoDbError(`cancelled: nothing was changed`, { code: 'CANCELLED', exitCode: ExitCode.FAILED, data })
  }
}

/** The first few items, so that the refusal stays one line; --json and the prompt list them all. */
function inOneLine(items: string[], max = 5): string {
  if (items.length === 0) return 'nothing now'
  return items.slice(0, max).join(', ') + (items.length > max ? ` and ${items.length - max} more` : '')
}

/** One line from the terminal. Ctrl-C (the terminal is in raw mode: readline sees it) and SIGTERM stop the command. */
function ask(ctx: Context, io: ConfirmIo, question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true })
    let done = false
    const finish = (fn: () => void) => {
      if (done) return
      done = true
      ctx.signal.removeEventListener('abort', onAbort)
      rl.close()
      fn()
    }
    const onAbort = () => finish(() => reject(interrupted(ctx.signal.reason, 'nothing was changed')))
    if (ctx.signal.aborted) return onAbort()
    ctx.signal.addEventListener('abort', onAbort)
    rl.on('SIGINT', () => {
      io.stderr.write('\n')
      finish(() => reject(interrupted('SIGINT', 'nothing was changed')))
    })
    // Ctrl-D, or the terminal gone: no answer is no.
    rl.on('close', () => finish(() => resolve('')))
    rl.question(question, (answer) => finish(() => resolve(answer)))
  })
}
