// The one place that opens database connections (postgres.js).
// Deadline, retry while the server refuses or is starting, error kinds, SSL, pooler mode,
// signals in every phase, and the stall watchdog (socket.ts) for a link that freezes.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import tls from 'node:tls'
import postgres from 'postgres'
import { Deadline, backoff, sleep } from '../duration.js'
import { classifyError, isNeonWaking, isTransient } from '../classify.js'
import { ExitCode, TodoDbError, badInput, interrupted, noResponse } from '../errors.js'
import type { Output, Spinner } from '../output.js'
import { socketFactory, type SocketState, type StallVerdict, type StallWatch, type TlsChoice } from './socket.js'
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
  /** SIGINT/SIGTERM: connecting stops at once; later, the connection is closed if work does not stop. */
  signal?: AbortSignal
  /** timeouts.stall: no progress for this long while an answer is owed starts a probe (0: never). */
  stallMs?: number
  /** The project folder: a stopped `provision --local` server there is named in the error. */
  cwd?: string
}

/**
 * After a signal, the command's own clean-up (a CancelRequest, ROLLBACK, unlocking) normally ends
 * in milliseconds. If it has not after this long, the link is not answering: the sockets are closed
 * under it, so the process still answers the signal within a second. The server rolls back an open
 * transaction, and releases session locks, when it sees the connection close.
 */
const SIGNAL_GRACE_MS = 500

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

export function postgresOptions(t: DbTarget, opts: ConnectOptions, state: SocketState = { sockets: new Set() }, watch?: StallWatch): postgres.Options<{}> {
  // Only what every pooler accepts at startup (PgBouncer refuses any parameter it does not know:
  // "unsupported startup parameter: lock_timeout"). Our timeouts are SET after connecting (connect()).
  const connection: Record<string, string | number> = {
    application_name: opts.applicationName ?? 'todo-db',
    ...t.params,
  }
  return {
    host: t.host,
    port: t.port,
    database: t.database,
    username: t.user,
    password: t.password,
    // We open the socket and negotiate SSL ourselves (see socket.ts), so postgres.js sees plain bytes.
    ssl: false,
    ...({ socket: socketFactory(t, tlsChoice(t), opts.deadline, state, opts.signal, watch) } as object),
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
// Connecting

const socketStates = new WeakMap<Sql, SocketState>()

/** A postgres.js instance; nothing is connected until the first query. */
export function createSql(t: DbTarget, opts: ConnectOptions): Sql {
  const state: SocketState = { sockets: new Set() }
  const sql = postgres(postgresOptions(t, opts, state, opts.stallMs ? stallWatch(t, opts.stallMs) : undefined))
  socketStates.set(sql, state)
  return sql
}

/** Whether the instance still has an open connection (after a stall or a signal it has none). */
export function isOpen(sql: Sql): boolean {
  return [...(socketStates.get(sql)?.sockets ?? [])].some((s) => !s.destroyed)
}

/** Closes every socket of the instance now; pending queries fail with `error`. */
function destroySockets(sql: Sql, error: Error): void {
  const state = socketStates.get(sql)
  for (const s of state?.sockets ?? []) {
    if (s.destroyed) continue
    // Only the session's queries get the error. A CancelRequest's socket is closed quietly:
    // postgres.js drops the promise of a cancel (query.cancel() returns null), so an error there
    // would be an unhandled rejection.
    if (s !== state?.session) {
      s.destroy()
      continue
    }
    if (s.listenerCount('error') === 0) s.on('error', () => {})
    s.destroy(error)
  }
}

/** A lost-connection error (classify.ts's isConnectionLost sees the cause) with our message. */
function closedUnder(error: TodoDbError): TodoDbError {
  return Object.assign(error, { cause: Object.assign(new Error('connection destroyed'), { code: 'CONNECTION_DESTROYED' }) })
}

const interruptedError = (reason: unknown, message: string) => interrupted(reason, undefined, message)

/** The stall watchdog's questions, answered over a new, short-lived connection (see socket.ts). */
function stallWatch(t: DbTarget, stallMs: number): StallWatch {
  const where = `${t.host}:${t.port}`
  const why: Record<StallVerdict, string> = {
    unreachable: ', and a new connection got no answer either',
    waiting: ' while the server waited for us (the server session was ended)',
    gone: ', and the server no longer has the session',
    busy: '',
    unknown: '',
  }
  return {
    stallMs,
    probe: (pid) => probeBackend(t, pid, stallMs),
    error: (verdict) => closedUnder(noResponse(
      `no progress on the connection to ${where} for ${Math.round(stallMs / 100) / 10} s${why[verdict]}`,
      { code: 'STALLED', hint: 'check the network or the pooler; timeouts.stall (TODO_DB_STALL_TIMEOUT) sets how long to wait' },
    )),
  }
}

/**
 * What the backend behind a silent connection is doing. Ending it when it waits for us makes the
 * server roll back at once, whatever the frozen link does with our close.
 */
async function probeBackend(t: DbTarget, pid: number | undefined, stallMs: number): Promise<StallVerdict> {
  const deadline = new Deadline(Math.min(5000, Math.max(1000, stallMs)))
  const sql = postgres(postgresOptions(t, { deadline, applicationName: 'todo-db probe' }))
  try {
    if (pid === undefined) {
      await withinDeadline(sql`select 1`, deadline, t)
      return 'unknown' // reachable, but we cannot tell which backend is ours (a pooler)
    }
    const [row] = await withinDeadline(
      sql<{ state: string | null; wait_event: string | null }[]>`select state, wait_event from pg_stat_activity where pid = ${pid}`,
      deadline, t)
    if (!row) return 'gone'
    if (row.state === 'active' && row.wait_event !== 'ClientRead' && row.wait_event !== 'ClientWrite') return 'busy'
    if (row.state === null) return 'unknown' // another role's backend: not ours to judge
    await withinDeadline(sql`select pg_terminate_backend(${pid})`, deadline, t).catch(() => {})
    return 'waiting'
  } catch (e) {
    return classifyError(e, t).exitCode === ExitCode.NO_RESPONSE ? 'unreachable' : 'unknown'
  } finally {
    void sql.end({ timeout: 0 }).catch(() => {})
  }
}

/** The server process behind a one-connection instance's session; undefined through a pooler. */
export function sessionPid(sql: Sql): number | undefined {
  return socketStates.get(sql)?.backend?.pid
}

/**
 * Ends a server session of ours (pg_terminate_backend) and waits until it is gone. A backend whose
 * client link went down still runs what it had received, a COMMIT among it, until it tries to
 * answer: ended, it runs nothing more and rolls back what it had open. false: still there at the
 * deadline. `applicationName` guards against a pid the server has since given to another session.
 */
export async function endBackend(sql: Sql, pid: number, applicationName: string, deadline: Deadline): Promise<boolean> {
  await withinDeadline(sql`select pg_terminate_backend(pid) from pg_stat_activity where pid = ${pid} and application_name = ${applicationName}`, deadline)
  while (deadline.remaining() > 0) {
    const [{ n }] = await withinDeadline(sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where pid = ${pid}`, deadline)
    if (n === 0) return true
    await sleep(Math.min(25, deadline.remaining()))
  }
  return false
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
  const { signal } = opts
  const stopped = () => interruptedError(signal?.reason, `interrupted while connecting to ${t.host}:${t.port}: nothing was changed`)
  // On a terminal, say what we wait for while retrying (--verbose logs each attempt instead).
  let spinner: Spinner | undefined
  try {
    return await connectRetrying(t, opts, stopped, async (e) => {
      const text = `connecting to ${t.host}:${t.port}, retrying: ${retryReason(e)}`
      if (spinner) spinner.update(text)
      else if (opts.out?.interactive) spinner = await opts.out.spinner(text)
    })
  } catch (e) {
    throw withLocalHint(classifyError(e, t), t, opts.cwd)
  } finally {
    spinner?.stop()
  }
}

async function connectRetrying(t: DbTarget, opts: ConnectOptions, stopped: () => TodoDbError, retrying: (e: unknown) => Promise<void>): Promise<Sql> {
  const { signal } = opts
  // What the attempts before met: when the deadline cuts the last one short, that is the news
  // ("refused the connection"), not that the last attempt had no time left.
  let before: TodoDbError | undefined
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw stopped()
    const sql = createSql(t, opts)
    try {
      const [{ pid }] = await unlessAborted(withinDeadline(firstQuery(sql, t, opts), opts.deadline, t), signal, stopped)
      const state = socketStates.get(sql)!
      // Through a pooler the next statement may run on another backend: the pid would mislead.
      state.session = state.last
      if (!t.pooled && state.last) state.backend = { socket: state.last, pid }
      signal?.addEventListener('abort', () => {
        setTimeout(() => destroySockets(sql, closedUnder(interruptedError(signal.reason, 'interrupted: the connection was closed, the server rolls back what was not committed'))), SIGNAL_GRACE_MS).unref()
      }, { once: true })
      return sql
    } catch (e) {
      destroySockets(sql, new Error('abandoned'))
      await sql.end({ timeout: 0 }).catch(() => {})
      if (signal?.aborted) throw stopped()
      const error = classifyError(e, t)
      const wait = backoff(attempt, 100, 2000)
      const cutShort = e instanceof TodoDbError && e.code === 'NO_RESPONSE'
      if (!isTransient(e) || opts.deadline.remaining() <= wait) throw cutShort && before ? before : error
      before = error
      opts.out?.debug(`attempt ${attempt + 1}: ${error.message}; retrying in ${Math.round(wait)} ms`)
      await retrying(e)
      await unlessAborted(sleep(wait), signal, stopped)
    }
  }
}

function retryReason(e: unknown): string {
  const code = (e as { code?: string })?.code ?? ''
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'refused', CONNECT_TIMEOUT: 'no answer', ECONNRESET: 'connection reset', '57P03': 'the server is starting up',
  }
  return reasons[code] ?? (isNeonWaking(e) ? 'the compute is waking up' : classifyError(e).message)
}

/**
 * No answer from the local server that `todo-db provision --local` made in this project (it
 * records its port in .todo-db/local.json): it is stopped, say how to start it.
 */
function withLocalHint(error: TodoDbError, t: DbTarget, cwd: string | undefined): TodoDbError {
  if (error.exitCode !== ExitCode.NO_RESPONSE || !t.local || !cwd) return error
  let port: unknown
  try {
    port = (JSON.parse(readFileSync(join(cwd, '.todo-db', 'local.json'), 'utf8')) as { port?: unknown }).port
  } catch {
    return error
  }
  if (port !== t.port) return error
  return new TodoDbError(`${error.message}: the local server of todo-db provision --local is not running`, {
    code: error.code, exitCode: error.exitCode, hint: 'start it with todo-db provision --local', cause: error,
  })
}

/**
 * Our timeouts, SET after connecting rather than sent at startup (no pooler refuses a SET), in the
 * same round trip as the connect check. Through a transaction pooler a session setting would leak
 * to other clients or vanish: commands set them per transaction there (SET LOCAL) instead.
 */
function firstQuery(sql: Sql, t: DbTarget, opts: ConnectOptions): Promise<{ pid: number }[]> {
  const settings: [string, number | undefined][] = [['statement_timeout', opts.statementTimeoutMs], ['lock_timeout', opts.lockTimeoutMs]]
  const set = t.pooled ? [] : settings.filter(([, ms]) => ms)
  const text = `select pg_backend_pid() as pid${set.map(([name], i) => `, set_config('${name}', $${i + 1}, false)`).join('')}`
  return sql.unsafe<{ pid: number }[]>(text, set.map(([, ms]) => String(ms))) as unknown as Promise<{ pid: number }[]>
}

/** p, or a rejection with stopped() as soon as the signal fires. */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, stopped: () => Error): Promise<T> {
  if (!signal) return p
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(stopped())
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
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

/**
 * BEGIN ... COMMIT by hand rather than sql.begin(): after a lost connection, sql.begin() still
 * writes its ROLLBACK and postgres.js throws from a timer (a write to a closed socket), which would
 * crash the process. A lost connection needs no ROLLBACK: the server rolls back on its own.
 * (max: 1, so every statement goes over this one connection.)
 */
export async function inTransaction<T>(sql: Sql, fn: () => Promise<T>): Promise<T> {
  await sql`begin`
  try {
    const result = await fn()
    await sql`commit`
    return result
  } catch (e) {
    // After a stall or a signal closed the session, a query would wait for a connection forever.
    if (isOpen(sql) && classifyError(e).exitCode !== ExitCode.NO_RESPONSE) await sql`rollback`.catch(() => {})
    throw e
  }
}
