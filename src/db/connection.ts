// The one place that opens database connections (postgres.js).
// Deadline, retry while the server refuses or is starting, error kinds, SSL, pooler mode.
import { readFileSync } from 'node:fs'
import tls from 'node:tls'
import postgres from 'postgres'
import { Deadline, backoff, sleep } from '../duration.js'
import { ExitCode, TodoDbError, badInput, noResponse, redact } from '../errors.js'
import type { Output } from '../output.js'
import { socketFactory, type SocketState, type TlsChoice } from './socket.js'
import type { DbTarget } from './url.js'

export type Sql = postgres.Sql

export interface ConnectOptions {
  /** Connecting (with retries) must be done by then. */
  deadline: Deadline
  out?: Output
  /** Pool size; commands use 1 unless they have reason not to. */
  max?: number
  /** Server-side statement_timeout / lock_timeout in ms (0: none). */
  statementTimeoutMs?: number
  lockTimeoutMs?: number
  applicationName?: string
}

// ---------------------------------------------------------------------------
// postgres.js options

function readFileParam(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    throw badInput(`cannot read ${what} file "${path}"`)
  }
}

/** What SSL the URL asks for, as options for our socket factory. */
function tlsChoice(t: DbTarget): TlsChoice {
  switch (t.sslmode) {
    case 'disable':
      return { mode: 'disable' }
    case 'allow':
    case 'prefer':
      return { mode: 'optional', options: { rejectUnauthorized: false } }
    case 'require':
      // libpq: require with a root certificate behaves as verify-ca.
      return { mode: 'required', options: t.sslrootcert ? verifyOptions(t, false) : { rejectUnauthorized: false } }
    case 'verify-ca':
      return { mode: 'required', options: verifyOptions(t, false) }
    case 'verify-full':
      return { mode: 'required', options: verifyOptions(t, true) }
  }
}

function verifyOptions(t: DbTarget, checkHost: boolean): tls.ConnectionOptions {
  const o: tls.ConnectionOptions = {
    rejectUnauthorized: true,
    // Check against the host of the URL, also when it is an IP address (postgres.js omits servername then).
    checkServerIdentity: checkHost ? (_h, cert) => tls.checkServerIdentity(t.host, cert) : () => undefined,
  }
  if (t.sslrootcert) o.ca = readFileParam(t.sslrootcert, 'sslrootcert')
  if (t.sslcert) o.cert = readFileParam(t.sslcert, 'sslcert')
  if (t.sslkey) o.key = readFileParam(t.sslkey, 'sslkey')
  return o
}

export function postgresOptions(t: DbTarget, opts: ConnectOptions, state: SocketState = {}): postgres.Options<{}> {
  const connection: Record<string, string | number> = {
    application_name: opts.applicationName ?? 'todo-db',
    ...t.params,
  }
  // Through a transaction pooler every statement may land on another server connection,
  // so session settings would leak or vanish: set them per transaction there instead.
  if (!t.pooled) {
    if (opts.statementTimeoutMs) connection.statement_timeout = opts.statementTimeoutMs
    if (opts.lockTimeoutMs) connection.lock_timeout = opts.lockTimeoutMs
  }
  return {
    host: t.host,
    port: t.port,
    database: t.database,
    username: t.user,
    password: t.password,
    // We open the socket and negotiate SSL ourselves (see socket.ts), so postgres.js sees plain bytes.
    ssl: false,
    ...({ socket: socketFactory(t, tlsChoice(t), opts.deadline, state) } as object),
    max: opts.max ?? 1,
    // Transaction-mode poolers cannot keep named prepared statements.
    prepare: !t.pooled,
    connect_timeout: Math.max(0.05, opts.deadline.remaining() / 1000),
    idle_timeout: 0,
    max_lifetime: null,
    fetch_types: false,
    connection,
    onnotice: (n) => opts.out?.debug(`notice: ${n.message}`),
    debug: false,
  }
}

// ---------------------------------------------------------------------------
// Errors

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED',
  '57P03', // cannot_connect_now: starting up, shutting down
])
const NO_ANSWER_CODES = new Set([...TRANSIENT_CODES, 'ENOTFOUND'].filter((c) => c !== '57P03'))
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|CERT_|HOSTNAME_MISMATCH)/

interface DriverError extends Error {
  code?: string
  severity?: string
  detail?: string
  hint?: string
  position?: string
}

/** Neon's proxy answers with XX000 while a compute is waking or cannot be reached yet. */
function isNeonWaking(e: DriverError): boolean {
  return e.code === 'XX000' && /compute|waking|endpoint is (starting|disabled)|try again/i.test(e.message)
}

export function isTransient(e: unknown): boolean {
  const err = e as DriverError
  return TRANSIENT_CODES.has(err?.code ?? '') || isNeonWaking(err)
}

/**
 * What to do about a certificate that does not verify. With channel_binding=require the URL's
 * sslmode=require was raised to verify-full (see url.ts), so "use sslmode=require" would be untrue.
 */
function tlsHint(t: DbTarget | undefined): string {
  if (t?.channelBinding === 'require') {
    return 'channel_binding=require: without channel binding in its driver, todo-db verifies the certificate and host name instead; ' +
      'give the CA with sslrootcert=/path/to/ca.pem, or use channel_binding=prefer to accept this certificate unverified'
  }
  return 'use sslmode=require to skip verification, or give the CA with sslrootcert=/path/to/ca.pem'
}

/** Turns a driver error into one of our kinds, with an exit code and no secrets. */
export function classifyError(e: unknown, t?: DbTarget): TodoDbError {
  if (e instanceof TodoDbError) return e
  const err = (e ?? {}) as DriverError
  const code = err.code ?? ''
  const where = t ? `${t.host}:${t.port}` : 'the server'
  const msg = redact(err.message ?? String(e))
  const pg = (kind: string, message: string, exitCode: 1 | 2 = ExitCode.FAILED, hint?: string) =>
    new TodoDbError(redact(message), { code: kind, exitCode, hint, sqlState: /^[0-9A-Z]{5}$/.test(code) ? code : undefined, cause: e })

  switch (code) {
    case '28P01':
    case '28000':
      return pg('AUTH_FAILED', msg, 1, 'check the user and password in the database URL')
    case '3D000':
      return pg('DATABASE_NOT_FOUND', msg, 1, 'create the database or fix its name in the URL')
    case '53300':
      return pg('TOO_MANY_CONNECTIONS', msg, 1, 'the server is at its connection limit; use the pooled URL or try later')
    case '57P03':
      return pg('SERVER_STARTING', `${where} is not accepting connections yet: ${msg}`, 1)
    case '55P03':
      return pg('LOCK_TIMEOUT', msg, 1, 'another session holds a lock; raise timeouts.lock or find the blocker in pg_stat_activity')
    case '57014':
      return pg('CANCELED', msg, 1)
    case 'ENOTFOUND':
      return noResponse(`cannot resolve host ${t?.host ?? ''}`.trim(), { code: 'HOST_NOT_FOUND', hint: 'check the host name in the database URL', cause: e })
    case 'SASL_SIGNATURE_MISMATCH':
      return pg('AUTH_FAILED', 'the server did not prove it knows the password (SCRAM signature mismatch)', 1)
  }
  if (isNeonWaking(err)) return noResponse(`${where}: the compute did not wake in time: ${msg}`, { code: 'NO_RESPONSE', cause: e })
  if (code === 'SSL_REFUSED') {
    return pg('SSL_REFUSED', `${where} does not accept SSL connections, and the URL requires SSL`, 1,
      'for a local server without SSL add sslmode=disable (or prefer) to the URL')
  }
  if (TLS_CODES.test(code)) {
    return pg('SSL_ERROR', `SSL: cannot verify the server at ${where}: ${msg}`, 1, tlsHint(t))
  }
  if (NO_ANSWER_CODES.has(code)) {
    const what: Record<string, string> = {
      ECONNREFUSED: 'refused the connection',
      CONNECT_TIMEOUT: 'did not answer in time',
    }
    return noResponse(`no answer from ${where}: ${what[code] ?? msg}`, { code: 'NO_RESPONSE', cause: e })
  }
  if (/^[0-9A-Z]{5}$/.test(code)) return pg('DB_ERROR', msg, 1, err.hint ? redact(err.hint) : undefined)
  return pg('DB_ERROR', msg, 1)
}

// ---------------------------------------------------------------------------
// Connecting

const socketStates = new WeakMap<Sql, SocketState>()

/** A postgres.js instance; nothing is connected until the first query. */
export function createSql(t: DbTarget, opts: ConnectOptions): Sql {
  const state: SocketState = {}
  const sql = postgres(postgresOptions(t, opts, state))
  socketStates.set(sql, state)
  return sql
}

/** Whether the (last) connection of this instance uses TLS. */
export function usesTls(sql: Sql): boolean {
  return socketStates.get(sql)?.tls === true
}


/**
 * Connects and proves the server answers. Retries with backoff and jitter while the server refuses
 * or is starting, until the deadline; never on a wrong password, missing database or role.
 */
export async function connect(t: DbTarget, opts: ConnectOptions): Promise<Sql> {
  for (const note of t.notes) opts.out?.debug(note)
  for (let attempt = 0; ; attempt++) {
    const sql = createSql(t, opts)
    try {
      await withinDeadline(sql`select 1`, opts.deadline, t)
      return sql
    } catch (e) {
      await sql.end({ timeout: 0 }).catch(() => {})
      const error = classifyError(e, t)
      const wait = backoff(attempt, 100, 2000)
      if (!isTransient(e) || opts.deadline.remaining() <= wait) throw error
      opts.out?.debug(`attempt ${attempt + 1}: ${error.message}; retrying in ${Math.round(wait)} ms`)
      await sleep(wait)
    }
  }
}

/** Rejects with a no-answer error when the deadline passes first, whatever the driver is doing. */
export async function withinDeadline<T>(p: Promise<T>, deadline: Deadline, t?: DbTarget): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(noResponse(`no answer from ${t ? `${t.host}:${t.port}` : 'the server'} within ${deadline.ms} ms`, { code: 'NO_RESPONSE' })),
      deadline.remaining(),
    )
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Connects, runs fn, and always closes the connection. */
export async function withSql<T>(t: DbTarget, opts: ConnectOptions, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = await connect(t, opts)
  try {
    return await fn(sql)
  } catch (e) {
    throw classifyError(e, t)
  } finally {
    await sql.end({ timeout: 5 }).catch(() => {})
  }
}
