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
// Redaction: every line and every JSON value we print passes through redact().
//
// Two nets. Known secrets (passwords of URLs we parsed or were given, API keys) are masked in
// every spelling: raw, percent-encoded in whole or in part (Python's quote() leaves "/" alone),
// JSON-escaped. And whatever is shaped like user:password@host is masked even when nobody
// registered it: a URL in the wrong argument, a mistyped scheme, a driver's message.

export const MASK = '****'
/** Shorter secrets would mask ordinary words; the user:password@host net still covers them. */
const MIN_SECRET = 3

const secrets = new Set<string>()
let secretPattern: RegExp | null | undefined

/** Remember a value (password, API key) so that it is masked wherever it shows up later. */
export function registerSecret(value: string | undefined | null): void {
  if (!value) return
  // Registered from a URL either way: the decoded password, or the text as it was written.
  for (const v of [value, percentDecode(value)]) {
    if (v.length >= MIN_SECRET && !secrets.has(v)) {
      secrets.add(v)
      secretPattern = undefined
    }
  }
}

/** Registers the password of everything shaped like user:password@host among these values (argv, environment). */
export function registerCredentialsIn(values: Iterable<string | undefined>): void {
  for (const value of values) {
    if (!value || !value.includes('@')) continue
    for (const token of value.split(/\s+/)) {
      const cred = credentialSpan(token)
      if (cred) registerSecret(token.slice(cred.start, cred.end))
    }
  }
}

/**
 * What the environment holds that is secret: PGPASSWORD, NEON_API_KEY, and the password of every
 * *_URL / *_URI / *_DSN (DATABASE_URL, DATABASE_URL_UNPOOLED, ...). Only those: a PATH with an
 * "@" in it is no credential.
 */
export function registerSecretsOf(env: NodeJS.ProcessEnv): void {
  registerSecret(env.PGPASSWORD)
  registerSecret(env.NEON_API_KEY)
  registerCredentialsIn(Object.entries(env).filter(([name]) => /(^|_)(URL|URI|DSN)(_|$)/i.test(name)).map(([, value]) => value))
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

const escapeRegExp = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
/** "%3F" or "%3f": hex digits of either case, the rest of the secret case-sensitive. */
const hexByte = (b: number) => '%' + [...b.toString(16).toUpperCase().padStart(2, '0')].map((d) => (/[A-F]/.test(d) ? `[${d}${d.toLowerCase()}]` : d)).join('')

/** Every way one character of a secret may be written: raw, %XX (its UTF-8 bytes), JSON-escaped, "+" for a space. */
function characterForms(ch: string): string {
  const forms = new Set([escapeRegExp(ch), [...Buffer.from(ch, 'utf8')].map(hexByte).join(''), escapeRegExp(JSON.stringify(ch).slice(1, -1))])
  if (ch === ' ') forms.add('\\+')
  return forms.size === 1 ? [...forms][0] : `(?:${[...forms].join('|')})`
}

function knownSecrets(): RegExp | null {
  if (secretPattern === undefined) {
    // Longest first, so that a secret containing another is masked whole.
    const sorted = [...secrets].sort((a, b) => b.length - a.length)
    secretPattern = sorted.length ? new RegExp(sorted.map((s) => [...s].map(characterForms).join('')).join('|'), 'g') : null
  }
  return secretPattern
}

/**
 * Where the password of a user:password@host token is: after the first ":" past the scheme
 * (postgres://, or mistyped postgres:/ or postgres//), up to the last "@" (a password may hold
 * an "@" too). With no scheme ("u:pw@h", "postgres:pw@h"), after the first ":" of the token.
 */
function credentialSpan(token: string): { start: number; end: number } | undefined {
  const end = token.lastIndexOf('@')
  if (end < 0) return undefined
  const head = token.slice(0, end)
  // Only before the first ":" can a scheme be: "u:pa//ss@h" has none, its password holds "//".
  const scheme = /^[^:/]*?[a-z][a-z0-9+.-]*(?::\/\/?|\/\/)/i.exec(head)
  const colon = head.indexOf(':', scheme ? scheme[0].length : 0)
  return colon >= 0 && colon + 1 < end ? { start: colon + 1, end } : undefined
}

/** Placeholders in our own hints ("postgres://USER:PASSWORD@HOST") are not secrets. */
const PLACEHOLDER = /^(PASSWORD|\*{4})$/

function maskCredentials(text: string): string {
  return text.replace(/\S*@\S*/g, (token) => {
    const cred = credentialSpan(token)
    if (!cred || PLACEHOLDER.test(token.slice(cred.start, cred.end))) return token
    return token.slice(0, cred.start) + MASK + token.slice(cred.end)
  })
}

const KEY_VALUE_PASSWORD = /\b(password|passwd|pwd|api[_-]?key|secret|token)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&'",;]+)/gi
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/g

export function redact(text: string): string {
  const known = knownSecrets()
  const out = known ? text.replace(known, MASK) : text
  return maskCredentials(out)
    .replace(KEY_VALUE_PASSWORD, (_m, k: string, sep: string) => `${k}${sep}${MASK}`)
    .replace(BEARER, (_m, head: string) => `${head}${MASK}`)
}

/**
 * A copy of a value for JSON output with every string (keys included) redacted. Masking before
 * serialisation: after it, a secret with " or \ in it is spelled differently, and a mask could
 * cut through the document's own quotes.
 */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redact(value)
  if (value === null || typeof value !== 'object') return value
  const json = (value as { toJSON?: () => unknown }).toJSON
  if (typeof json === 'function') return redactValue(json.call(value))
  if (Array.isArray(value)) return value.map(redactValue)
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactValue(v)]))
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
