// One place for error kinds, exit codes and redaction. Only src/main.ts calls process.exit.
// What a thrown driver or network error means (transient? lost? which kind?) is decided in
// src/classify.ts, which turns it into one of these.

export const ExitCode = {
  OK: 0,
  FAILED: 1,
  NO_RESPONSE: 2,
  BAD_INPUT: 3,
  DRIFT: 4,
  PENDING: 5,
  SIGINT: 130,
  SIGTERM: 143,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** The commands whose help lists their exit codes. */
export type ExitCodeCommand = 'health' | 'migrate' | 'seed' | 'provision'

export interface ExitCodeRow {
  codes: readonly ExitCodeValue[]
  /** What the code means for every command (the root help and the README); `code spans` in Markdown. */
  meaning: string
  /** The commands that can exit so, with what it means for each when it says more than `meaning` (true: `meaning`). */
  commands: Partial<Record<ExitCodeCommand, string | true>>
}

/**
 * THE exit-code table: the help of each command renders its rows (exitCodesHelp), and the README's
 * table is generated from it (exitCodesMarkdown; test/exit-codes.test.ts fails when they differ).
 * A lost connection is "no response" (2) wherever it happens: the server did not answer what we sent.
 */
export const EXIT_CODES: readonly ExitCodeRow[] = [
  {
    codes: [ExitCode.OK],
    meaning: 'done; for `health`, accepting connections',
    commands: { health: 'accepting connections', migrate: 'done', seed: 'seeded', provision: 'done' },
  },
  {
    codes: [ExitCode.FAILED],
    meaning: 'the server or the Neon API answered and refused (wrong password, no such database), or a migration/statement failed',
    commands: {
      health: 'rejected: wrong password, no such database or role, too many connections, starting up',
      migrate: 'a migration or database error, the migration lock not free within the lock timeout, `baseline` found objects missing (nothing recorded), or "no" to `down`\'s or `redo`\'s question',
      seed: 'refused or failed: schema not migrated (run `todo-db migrate up`), app rows depend on seed rows this run would delete ' +
        '(`--accept-data-loss`), `--reset` when other tables refer to users (`--cascade`), a constraint, a lock timeout, another seed running, or "no" to `--reset`\'s question',
      provision: 'the Neon API refused (bad key, quota, conflict: its message is shown), the local server failed, or "no" to the question',
    },
  },
  {
    codes: [ExitCode.NO_RESPONSE],
    meaning: 'no answer: server or API unreachable within the deadline, or the connection was lost (what was not committed is rolled back)',
    commands: {
      health: 'no answer within `--timeout`',
      migrate: 'no answer from the server, or the connection was lost (the server rolls back the running migration)',
      seed: 'no answer from the server, or the connection was lost (nothing was changed)',
      provision: 'the Neon API unreachable, or not done within `--timeout`',
    },
  },
  {
    codes: [ExitCode.BAD_INPUT],
    meaning: 'bad input: unknown command or flag, malformed URL, `DATABASE_URL` / `NEON_API_KEY` missing, unknown migration, a destructive command without `--yes` where there is no terminal to ask',
    commands: {
      health: 'bad input: malformed URL, bad `--timeout`, `DATABASE_URL` not set',
      migrate: 'bad input: count, `--to`, pooled-only URL, transaction control in a file, a file not UTF-8, `accept` of an unknown or pending migration, `down` of several or `redo` without `--yes` and no terminal',
      seed: 'bad input: flags, config, database URL, `--reset` without `--yes` and no terminal',
      provision: 'bad input: flags, no `NEON_API_KEY`, an organization the Neon API wants named (`--org`: the key has several, or none), `delete-branch`, `--reset-from-parent` or `local destroy` without `--yes` and no terminal',
    },
  },
  {
    codes: [ExitCode.DRIFT],
    meaning: 'drift: an applied migration was edited or removed',
    commands: { migrate: true },
  },
  {
    codes: [ExitCode.PENDING],
    meaning: '`migrate status --exit-code`: migrations are pending',
    commands: { migrate: 'migrations pending (`status --exit-code`)' },
  },
  {
    codes: [ExitCode.SIGINT, ExitCode.SIGTERM],
    meaning: 'interrupted by SIGINT / SIGTERM; the database is left as it was',
    commands: { health: true, migrate: true, seed: true, provision: true },
  },
]

const plain = (text: string) => text.replace(/`/g, '')

/** `text` after `head`, hard-wrapped at `width`, continuation lines indented to where it starts. */
function wrap(head: string, text: string, width = 100): string {
  const indent = ' '.repeat(head.length)
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line && (lines.length ? indent : head).length + line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  return [...lines, line].map((l, i) => (i ? indent : head) + l).join('\n')
}

/** The "Exit codes:" block of a command's help (of the root's, without a command). */
export function exitCodesHelp(command?: ExitCodeCommand, title = 'Exit codes:'): string {
  const rows = EXIT_CODES.flatMap((row) => {
    const own = command ? row.commands[command] : true
    if (!own) return []
    return [{ label: row.codes.join('/'), meaning: plain(own === true ? row.meaning : own) }]
  })
  const width = Math.max(...rows.map((r) => r.label.length)) + 2
  return [title, ...rows.map((r) => wrap(`  ${r.label.padEnd(width)}`, r.meaning))].join('\n')
}

/** The README's table. */
export function exitCodesMarkdown(): string {
  return ['| code | meaning |', '| --- | --- |', ...EXIT_CODES.map((r) => `| ${r.codes.join(' / ')} | ${r.meaning} |`)].join('\n')
}

/**
 * Every error code we give (`code` in --json, stable for scripts). A driver's own codes (SQLSTATE,
 * ECONNRESET) are kept apart, in `sqlState` or the cause. Grouped by where they come from.
 */
export type ErrorCode =
  // anywhere
  | 'BAD_INPUT' | 'USAGE' | 'EMPTY_VALUE' | 'FAILED' | 'INTERNAL' | 'INTERRUPTED' | 'NO_RESPONSE'
  // config, URLs, env files
  | 'NO_DATABASE_URL' | 'POOLED_URL' | 'ENV_FILE_NOT_A_FILE'
  // destructive commands (confirm.ts)
  | 'CONFIRMATION_REQUIRED' | 'CANCELLED'
  // the database (classify.ts)
  | 'AUTH_FAILED' | 'DATABASE_NOT_FOUND' | 'TOO_MANY_CONNECTIONS' | 'SERVER_STARTING' | 'LOCK_TIMEOUT' | 'CANCELED'
  | 'HOST_NOT_FOUND' | 'SSL_REFUSED' | 'SSL_ERROR' | 'STALLED' | 'DB_ERROR'
  // migrate
  | 'MIGRATION_FAILED' | 'DRIFT' | 'UNKNOWN_MIGRATION' | 'IRREVERSIBLE' | 'NO_MIGRATIONS_DIR' | 'BAD_ENCODING'
  | 'BAD_MIGRATION_NAME' | 'DUPLICATE_MIGRATION' | 'TRANSACTION_CONTROL' | 'BAD_TABLE_NAME' | 'BAD_NAME'
  | 'BASELINE_MISMATCH' | 'BASELINE_UNCHECKABLE' | 'NOT_APPLIED' | 'MIGRATION_FILE_MISSING'
  // seed
  | 'NOT_MIGRATED' | 'SEED_BUSY' | 'SEED_DATA_LOSS' | 'RESET_NEEDS_CASCADE' | 'BAD_COUNT'
  // provision: the Neon API
  | 'NO_API_KEY' | 'BAD_API_HOST' | 'API_UNREACHABLE' | 'API_UNCERTAIN' | 'API_AUTH' | 'API_NOT_FOUND' | 'API_REFUSED'
  | 'API_BAD_ANSWER' | 'DEADLINE' | 'ORG_REQUIRED' | 'AMBIGUOUS_PROJECT' | 'PROJECT_NOT_FOUND' | 'PARENT_NOT_FOUND'
  | 'NO_DEFAULT_BRANCH' | 'DEFAULT_BRANCH' | 'BRANCH_HAS_CHILDREN' | 'OPERATION_FAILED' | 'GITHUB_OUTPUT'
  // provision: the local server
  | 'LOCAL_BUSY' | 'LOCAL_INIT_FAILED' | 'LOCAL_NO_BINARIES' | 'LOCAL_START_FAILED' | 'LOCAL_STATE_MISSING'
  | 'LOCAL_STOP_FAILED' | 'NO_POSTGRES_USER'

export interface ErrorDetails {
  code: ErrorCode
  exitCode: ExitCodeValue
  hint?: string
  sqlState?: string
  cause?: unknown
  /** Extra machine-readable fields for --json. */
  data?: Record<string, unknown>
}

export class TodoDbError extends Error {
  readonly code: ErrorCode
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

export const badInput = (message: string, hint?: string, code: ErrorCode = 'BAD_INPUT') =>
  new TodoDbError(message, { code, exitCode: ExitCode.BAD_INPUT, hint })

export const failed = (message: string, details: Partial<ErrorDetails> = {}) =>
  new TodoDbError(message, { code: 'FAILED', exitCode: ExitCode.FAILED, ...details })

/** The exit code of a signal (the abort reason of ctx.signal): 143 for SIGTERM, else 130. */
export const signalExitCode = (reason: unknown): ExitCodeValue => (reason === 'SIGTERM' ? ExitCode.SIGTERM : ExitCode.SIGINT)

/** Stopped by SIGINT or SIGTERM: exit 130 or 143. `message` replaces the usual "interrupted: detail". */
export const interrupted = (reason: unknown, detail?: string, message?: string) =>
  new TodoDbError(message ?? (detail ? `interrupted: ${detail}` : 'interrupted'), { code: 'INTERRUPTED', exitCode: signalExitCode(reason) })

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
  const from = scheme ? scheme[0].length : 0
  const colon = head.indexOf(':', from)
  // A user name in a URL holds no "[" or "]" (RFC 3986 gen-delims); a POSIX class in a regular
  // expression does: CHECK (email ~ '^[^@[:space:]]+@...') is not a credential.
  if (/[[\]]/.test(head.slice(from, colon))) return undefined
  return colon >= 0 && colon + 1 < end ? { start: colon + 1, end } : undefined
}

/** Placeholders in our own hints ("postgres://USER:PASSWORD@HOST") are not secrets. */
const PLACEHOLDER = /^(PASSWORD|\*{4})$/

/** user:password@host, wherever it stands in the text, with the password masked. */
export function maskCredentials(text: string): string {
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
