// Runs the built CLI as a process, as users and CI do, and records every output for the
// suite-wide "no password anywhere" check.
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { Writable } from 'node:stream'
import { inject } from 'vitest'
import { jsonContractViolation } from './json-schema.js'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const BIN = resolve(__dirname, '../../bin/todo-db.js')
/**
 * Passwords and API keys the tests hand to the CLI. Every run's stdout and stderr is checked
 * against them (and the cluster password): a leak fails the test that caused it.
 */
export const secrets = new Set<string>()

export function leakedSecret(text: string): string | undefined {
  const all = [...secrets]
  try {
    all.push(inject('cluster').password)
  } catch {
    // outside a vitest worker: only the registered secrets
  }
  return all.find((s) => s && spellings(s).some((form) => text.includes(form)))
}

/** The ways a secret gets written: raw, percent-encoded (whole, or as Python's quote() leaves "/"), JSON-escaped. */
export function spellings(secret: string): string[] {
  const encoded = encodeURIComponent(secret)
  const forms = [secret, encoded, encoded.replace(/%2F/g, '/'), JSON.stringify(secret).slice(1, -1)]
  return [...new Set(forms)]
}

/** Output as the GitHub Actions runner logs it: its `::add-mask::` commands consumed. */
export const withoutMasks = (text: string) => text.replace(/^::add-mask::.*\n/gm, '')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

export interface CliOptions {
  cwd?: string
  env?: Record<string, string | undefined>
  /** Replaces the inherited environment entirely (besides PATH/HOME). */
  cleanEnv?: boolean
  timeoutMs?: number
  onSpawn?: (child: ReturnType<typeof spawn>) => void
  input?: string
}

export function tempDir(prefix = 'todo-db-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** The environment a command under test sees. */
function cliEnv(opts: CliOptions): Record<string, string> {
  const base: Record<string, string | undefined> = opts.cleanEnv
    ? { PATH: process.env.PATH, HOME: process.env.HOME }
    : { ...process.env }
  // The suite's own variables must not leak into a command under test.
  delete base.DATABASE_URL
  delete base.DATABASE_URL_UNPOOLED
  delete base.NEON_API_KEY
  delete base.NEON_API_HOST
  const env: Record<string, string | undefined> = { ...base, NO_COLOR: '1', ...opts.env }
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  return env as Record<string, string>
}

/**
 * What every run must hold to, in a process or not: no secret in the output, and --json output
 * that keeps the published schema. Returns why not, or undefined.
 */
function contractBroken(args: string[], result: CliResult): string | undefined {
  const { stdout, stderr, signal } = result
  // As the GitHub Actions runner does: a `::add-mask::` line is consumed, never logged. todo-db
  // writes them to stderr only (stdout is the result's): one on stdout counts as a leak here.
  const leaked = leakedSecret(stdout + withoutMasks(stderr))
  if (leaked) return `a secret (${leaked.slice(0, 2)}…) appears in the output of todo-db ${args[0]}:\n${stdout}\n${stderr}`
  // Every --json run of the suite holds to the published schema (a process killed by a
  // signal has no chance to print; help and version are not documents).
  const end = args.indexOf('--')
  const flags = end < 0 ? args : args.slice(0, end)
  if (flags.includes('--json') && signal === null && !flags.some((a) => ['--help', '-h', '--version', '-V'].includes(a))) {
    let violation: string | undefined
    try {
      violation = jsonContractViolation(args, stdout)
    } catch (e) {
      violation = `the schemas cannot be used: ${(e as Error).message}`
    }
    if (violation) return `todo-db ${args.join(' ')} --json: ${violation}\n${stdout}\n${stderr}`
  }
  return undefined
}

/**
 * The CLI's run() in this process, for what needs no process of its own: usage, flag and config
 * errors, help. Far cheaper than starting Node; signals, TTY, crashes and anything that connects
 * still go through runCli (the built CLI, as users run it).
 */
export async function runInProcess(args: string[], opts: Pick<CliOptions, 'cwd' | 'env' | 'cleanEnv'> = {}): Promise<CliResult> {
  const { run } = await import('../../src/cli.js')
  let stdout = ''
  let stderr = ''
  const sink = (write: (s: string) => void) => new Writable({ write: (chunk, _enc, done) => (write(String(chunk)), done()) })
  const started = Date.now()
  const code = await run({
    argv: args,
    cwd: opts.cwd ?? tempDir(),
    env: cliEnv(opts),
    streams: { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) },
  })
  const result = { code, signal: null, stdout, stderr, ms: Date.now() - started }
  const broken = contractBroken(args, result)
  if (broken) throw new Error(broken)
  return result
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env = cliEnv(opts)
  const started = Date.now()
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? tempDir(),
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    if (opts.input !== undefined) child.stdin.end(opts.input)
    else child.stdin.end()
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    opts.onSpawn?.(child)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const result = { code, signal, stdout, stderr, ms: Date.now() - started }
      const broken = contractBroken(args, result)
      if (broken) reject(new Error(broken))
      else resolvePromise(result)
    })
  })
}

export interface RunningCli {
  /** Settles as runCli does, when the process has exited. */
  result: Promise<CliResult>
  kill(signal: NodeJS.Signals): void
  /** What the process has written so far: to wait for a line (with waitFor), not to assert on. */
  stdout(): string
  stderr(): string
}

/** runCli for a process the test talks to while it runs: send it a signal, watch its output. */
export function startCli(args: string[], opts: CliOptions = {}): RunningCli {
  let child: ReturnType<typeof spawn> | undefined
  let stdout = ''
  let stderr = ''
  const result = runCli(args, {
    ...opts,
    onSpawn: (ch) => {
      child = ch
      ch.stdout!.on('data', (d) => (stdout += d))
      ch.stderr!.on('data', (d) => (stderr += d))
      opts.onSpawn?.(ch)
    },
  })
  return {
    result,
    kill: (signal) => void child!.kill(signal),
    stdout: () => stdout,
    stderr: () => stderr,
  }
}
