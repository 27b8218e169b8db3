// What a thrown error means, decided in one place: the network's and the driver's codes, for
// the database (postgres.js) and the Neon API (axios) alike. Every other module asks here
// (transient? connection lost? never sent?) or calls classifyError for one of our kinds.
//
// One vocabulary, three kinds of network failure; what to do about each depends on the phase:
// - not sent: no connection was made, so the request never left (safe to send again);
// - lost: a connection was made and died under us (the server rolls back what it had not committed);
// - timed out: no answer in time (while connecting, or the kernel gave up on a silent peer).
// While connecting to the database, all three are retried until the deadline; after it, lost and
// timed out mean the session is gone. Each ends, if it ends the command, as "no response" (exit 2).
import { ExitCode, TodoDbError, interrupted, noResponse, redact, type ErrorCode } from './errors.js'
import type { DbTarget } from './db/url.js'

export type NetworkFailure = 'not-sent' | 'lost' | 'timed-out'

const NETWORK: Record<string, NetworkFailure> = {
  ECONNREFUSED: 'not-sent',
  ENOTFOUND: 'not-sent',
  EAI_AGAIN: 'not-sent',
  EHOSTUNREACH: 'not-sent',
  ENETUNREACH: 'not-sent',
  ECONNRESET: 'lost',
  EPIPE: 'lost',
  // postgres.js: the socket closed under a query, was destroyed (by us: a stall, a signal), ended.
  CONNECTION_CLOSED: 'lost',
  CONNECTION_DESTROYED: 'lost',
  CONNECTION_ENDED: 'lost',
  // axios: a request failed below HTTP, with no more said.
  ERR_NETWORK: 'lost',
  ETIMEDOUT: 'timed-out',
  CONNECT_TIMEOUT: 'timed-out', // postgres.js
  ECONNABORTED: 'timed-out', // axios's own timeout
}

interface CodedError {
  code?: unknown
  message?: string
  cause?: unknown
}

/** The kind of network failure a code names, if it names one. */
export function networkFailure(code: unknown): NetworkFailure | undefined {
  return typeof code === 'string' ? NETWORK[code] : undefined
}

/**
 * The session is gone (lost or timed out, here or in a cause): nothing more may be sent on it
 * (postgres.js throws from a timer when a reserved connection writes after its socket closed), and
 * the server rolls back and unlocks on its own.
 */
export function isConnectionLost(e: unknown): boolean {
  for (let x = e as CodedError | undefined; x; x = x.cause as CodedError | undefined) {
    const kind = networkFailure(x.code)
    if (kind === 'lost' || kind === 'timed-out') return true
  }
  return false
}

/** Neon's proxy answers with XX000 while a compute is waking or cannot be reached yet. */
export function isNeonWaking(e: unknown): boolean {
  const err = e as CodedError | undefined
  return err?.code === 'XX000' && /compute|waking|endpoint is (starting|disabled)|try again/i.test(err.message ?? '')
}

/**
 * Worth connecting again until the deadline: a network failure, a server starting up or a Neon
 * compute waking. Not a host name that does not resolve: a typo would wait out the whole deadline.
 */
export function isTransient(e: unknown): boolean {
  const code = (e as CodedError | undefined)?.code
  return (networkFailure(code) !== undefined && code !== 'ENOTFOUND') || code === '57P03' || isNeonWaking(e)
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|CERT_|HOSTNAME_MISMATCH)/
const SQLSTATE = /^[0-9A-Z]{5}$/

interface DriverError extends CodedError {
  code?: string
  hint?: string
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

/** Turns a database driver's error into one of our kinds, with an exit code and no secrets. */
export function classifyError(e: unknown, t?: DbTarget): TodoDbError {
  if (e instanceof TodoDbError) return e
  const err = (e ?? {}) as DriverError
  const code = err.code ?? ''
  const where = t ? `${t.host}:${t.port}` : 'the server'
  if (code === 'INTERRUPTED') {
    return interrupted('SIGINT', undefined, `interrupted while connecting to ${where}: nothing was changed`)
  }
  const msg = redact(err.message ?? String(e))
  const refused = (kind: ErrorCode, message: string, hint?: string) =>
    new TodoDbError(redact(message), { code: kind, exitCode: ExitCode.FAILED, hint, sqlState: SQLSTATE.test(code) ? code : undefined, cause: e })

  switch (code) {
    case '28P01':
    case '28000':
      return refused('AUTH_FAILED', msg, 'check the user and password in the database URL')
    case '3D000':
      return refused('DATABASE_NOT_FOUND', msg, 'create the database or fix its name in the URL')
    case '53300':
      return refused('TOO_MANY_CONNECTIONS', msg, 'the server is at its connection limit; use the pooled URL or try later')
    case '57P03':
      return refused('SERVER_STARTING', `${where} is not accepting connections yet: ${msg}`)
    case '55P03':
      return refused('LOCK_TIMEOUT', msg, 'another session holds a lock; raise timeouts.lock or find the blocker in pg_stat_activity')
    case '57014':
      return refused('CANCELED', msg)
    case 'ENOTFOUND':
      return noResponse(`cannot resolve host ${t?.host ?? ''}`.trim(), { code: 'HOST_NOT_FOUND', hint: 'check the host name in the database URL', cause: e })
    case 'SASL_SIGNATURE_MISMATCH':
      return refused('AUTH_FAILED', 'the server did not prove it knows the password (SCRAM signature mismatch)')
    case 'SSL_REFUSED':
      return refused('SSL_REFUSED', `${where} does not accept SSL connections, and the URL requires SSL`,
        'for a local server without SSL add sslmode=disable (or prefer) to the URL')
  }
  if (isNeonWaking(err)) return noResponse(`${where}: the compute did not wake in time: ${msg}`, { cause: e })
  if (TLS_CODES.test(code)) return refused('SSL_ERROR', `SSL: cannot verify the server at ${where}: ${msg}`, tlsHint(t))
  if (networkFailure(code) || isConnectionLost(e)) {
    const what: Record<string, string> = {
      ECONNREFUSED: 'refused the connection',
      CONNECT_TIMEOUT: 'did not answer in time',
    }
    return noResponse(`no answer from ${where}: ${what[code] ?? msg}`, { cause: e })
  }
  return refused('DB_ERROR', msg, SQLSTATE.test(code) && err.hint ? redact(err.hint) : undefined)
}
