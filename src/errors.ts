// One place for error kinds, exit codes and redaction. Only src/cli.ts calls process.exit.

export const ExitCode = {
  OK: 0,
  /** The server (or the Neon API) answered and refused, or a migration/statement failed. */
  FAILED: 1,
  /** No answer within the deadline: host down, blackholed, unreachable. */
  NO_RESPONSE: 2,
  /** Bad input: flags, URL, missing DATABASE_URL, unknown migration. */
  BAD_INPUT: 3,
  /** Applied migrations differ from the files on disk. */
  DRIFT: 4,
  /** `migrate status --exit-code`: migrations are pending (dbmate's flag of the same name). */
  PENDING: 5,
  SIGINT: 130,
  SIGTERM: 143,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface ErrorDetails {
  code: string
  exitCode: ExitCodeValue
  hint?: string
  sqlState?: string
  cause?: unknown
  /** Extra machine-readable fields for --json. */
  data?: Record<string, unknown>
}

export class TodoDbError extends Error {
  readonly code: string
  readonly exitCode: ExitCodeValue
  readonly hint?: string
  readonly sqlState?: string
  readonly data?: Record<string, unknown>

  constructor(message: string, details: ErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'TodoDbError'
    this.code = details.code
    this.exitCode = details.exitCode
    this.hint = details.hint
    this.sqlState = details.sqlState
    this.data = details.data
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: redact(this.message),
      ...(this.hint ? { hint: redact(this.hint) } : {}),
      ...(this.sqlState ? { sqlState: this.sqlState } : {}),
      ...(this.data ? { ...this.data } : {}),
    }
  }
}

export const badInput = (message: string, hint?: string, code = 'BAD_INPUT') =>
  new TodoDbError(message, { code, exitCode: ExitCode.BAD_INPUT, hint })

export const failed = (message: string, details: Partial<ErrorDetails> = {}) =>
  new TodoDbError(message, { code: 'FAILED', exitCode: ExitCode.FAILED, ...details })

/** Stopped by SIGINT or SIGTERM (the abort reason of ctx.signal): exit 130 or 143. */
export const interrupted = (reason: unknown, detail?: string) =>
  new TodoDbError(detail ? `interrupted: ${detail}` : 'interrupted', {
    code: 'INTERRUPTED',
    exitCode: reason === 'SIGTERM' ? ExitCode.SIGTERM : ExitCode.SIGINT,
  })

export const noResponse = (message: string, details: Partial<ErrorDetails> = {}) =>
  new TodoDbError(message, { code: 'NO_RESPONSE', exitCode: ExitCode.NO_RESPONSE, ...details })

// ---------------------------------------------------------------------------
// Redaction: every line we print passes through redact().

const secrets = new Set<string>()

/** Remember a value (password, API key) so that it is masked wherever it shows up later. */
export function registerSecret(value: string | undefined | null): void {
  if (!value) return
  secrets.add(value)
  // Passwords appear percent-encoded inside URLs too.
  const encoded = encodeURIComponent(value)
  if (encoded !== value) secrets.add(encoded)
}

export const MASK = '****'

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/\s]*)@/gi
const KEY_VALUE_PASSWORD = /\b(password|passwd|pwd|api[_-]?key|secret|token)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&'",;]+)/gi
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/g

export function redact(text: string): string {
  let out = text
  // Longest first, so that a secret containing another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length >= 3) out = out.split(s).join(MASK)
  }
  return out
    .replace(URL_PASSWORD, (_m, head: string) => `${head}${MASK}@`)
    .replace(KEY_VALUE_PASSWORD, (_m, k: string, sep: string) => `${k}${sep}${MASK}`)
    .replace(BEARER, (_m, head: string) => `${head}${MASK}`)
}

/** A URL for display: the password replaced by ****, nothing else changed. */
export function maskUrl(raw: string): string {
  return redact(raw)
}

export function isTodoDbError(e: unknown): e is TodoDbError {
  return e instanceof TodoDbError
}

/** Turns anything thrown into a TodoDbError; unknown errors are failures (exit 1). */
export function toTodoDbError(e: unknown): TodoDbError {
  if (isTodoDbError(e)) return e
  const message = e instanceof Error ? e.message : String(e)
  return failed(message, { code: 'INTERNAL', cause: e })
}
