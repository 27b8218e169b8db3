// Opens the socket for postgres.js and negotiates SSL ourselves, so that:
//  - a server that refuses SSL when the URL requires it is a clear error at once (postgres.js
//    would start a TLS handshake anyway and fail with a bare ECONNRESET, which looks transient);
//  - we know whether the connection really uses TLS (health reports it);
//  - the deadline covers the TCP connect and the TLS handshake too;
//  - a signal ends a connection still being made at once;
//  - a connection that stops making progress is noticed (watchProgress, below).
import net from 'node:net'
import tls from 'node:tls'
import type { Deadline } from '../duration.js'
import type { DbTarget } from './url.js'

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

export interface SocketState {
  /** Set once a connection is established: did it use TLS? */
  tls?: boolean
  /** Every open socket of the instance (the session, a CancelRequest's), to end them on a signal. */
  sockets: Set<net.Socket>
  /** The server process behind the session socket, once known (see connection.ts). */
  backend?: { socket: net.Socket; pid: number }
  /** The most recently established socket. */
  last?: net.Socket
  /** The socket of the session connect() made (not a later CancelRequest's). */
  session?: net.Socket
}

/** What the stall watchdog needs from the connection layer. */
export interface StallWatch {
  /** No progress for this long while the server owes us an answer: ask why (0: never). */
  stallMs: number
  /** Over a NEW connection: is the backend behind the stalled socket busy, or is the link dead? */
  probe(pid: number | undefined): Promise<StallVerdict>
  /** The error the pending query fails with. */
  error(verdict: StallVerdict): Error
}

/**
 * busy: the backend runs our statement (a long CREATE INDEX sends nothing for minutes);
 * waiting: the backend waits for us (idle, or reading/writing the client) while we wait for it;
 * gone: the backend no longer exists; unreachable: a new connection got no answer either;
 * unknown: the probe could not tell (refused login, too many connections): keep waiting.
 */
export type StallVerdict = 'busy' | 'waiting' | 'gone' | 'unreachable' | 'unknown'

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

/** TLS options for a mode that uses SSL; undefined for disable. */
export type TlsChoice = { mode: 'disable' } | { mode: 'optional' | 'required'; options: tls.ConnectionOptions }

export function socketFactory(t: DbTarget, tlsChoice: TlsChoice, deadline: Deadline, state: SocketState, signal?: AbortSignal, watch?: StallWatch) {
  return () =>
    new Promise<net.Socket>((resolve, reject) => {
      const unix = t.host.startsWith('/')
      // noDelay, as libpq sets TCP_NODELAY: with Nagle's algorithm a message written in pieces
      // (COPY data, then CopyDone and Sync) waits for the server's delayed ACK, 40 ms each time.
      const raw = unix ? net.connect({ path: `${t.host}/.s.PGSQL.${t.port}` }) : net.connect({ host: t.host, port: t.port, noDelay: true })
      let current: net.Socket = raw
      let done = false
      const onAbort = () => fail(codedError('INTERRUPTED', 'interrupted while connecting'))
      const fail = (e: Error) => {
        if (done) return
        done = true
        clearTimeout(timer)
        watched?.removeEventListener('abort', onAbort)
        current.destroy()
        raw.destroy()
        reject(e)
      }
      const succeed = (s: net.Socket, usedTls: boolean) => {
        if (done) return
        done = true
        clearTimeout(timer)
        watched?.removeEventListener('abort', onAbort)
        s.removeAllListeners('error')
        state.tls = usedTls
        state.sockets.add(s)
        state.last = s
        s.once('close', () => state.sockets.delete(s))
        if (watch && watch.stallMs > 0) watchProgress(s, watch, state)
        resolve(s)
      }
      const timer = setTimeout(
        () => fail(codedError('CONNECT_TIMEOUT', `connect timeout ${t.host}:${t.port}`)),
        // A later socket of the same instance (postgres.js's CancelRequest, a reconnect) comes after
        // the connect deadline has passed: it gets a budget of the same length of its own.
        Math.max(1, state.tls === undefined ? deadline.remaining() : deadline.ms),
      )
      // Only while the instance makes its first connection: a CancelRequest sent because of the
      // signal needs a socket of its own after it.
      const watched = state.tls === undefined ? signal : undefined
      if (watched?.aborted) return onAbort()
      watched?.addEventListener('abort', onAbort, { once: true })
      raw.on('error', fail)
      raw.once('connect', () => {
        if (unix || tlsChoice.mode === 'disable') return succeed(raw, false)
        raw.write(SSL_REQUEST)
        raw.once('data', (answer) => {
          if (answer[0] === 0x4e /* N */) {
            if (tlsChoice.mode === 'optional') return succeed(raw, false)
            return fail(codedError('SSL_REFUSED', 'the server does not support SSL connections'))
          }
          if (answer[0] !== 0x53 /* S */) {
            return fail(codedError('PROTOCOL_ERROR', 'unexpected answer to the SSL request: not a PostgreSQL server?'))
          }
          raw.removeListener('error', fail)
          const secure = tls.connect({
            socket: raw,
            servername: net.isIP(t.host) ? undefined : t.host,
            ...tlsChoice.options,
          })
          current = secure
          secure.on('error', fail)
          secure.once('secureConnect', () => succeed(secure, true))
        })
      })
    })
}

/**
 * The stall watchdog. A link can freeze with both ends' sockets open: a proxy or NAT that hangs
 * keeps ACKing at the TCP level, so neither the kernel nor TCP keepalive ever reports an error,
 * and a query would wait forever. Silence alone proves nothing either: a CREATE INDEX on a big
 * table, or the foreign-key checks at the end of a COPY, send nothing for minutes.
 *
 * So: "progress" is any byte read, or any write handed on to the kernel. When the server owes us
 * an answer (fewer ReadyForQuery read than requests written that each end in one: the start-up
 * message, a simple Query, a Sync; or our writes are stuck) and nothing has moved for
 * stallMs, we do not guess: we ask the server over a NEW connection what the backend behind this
 * socket is doing (pg_stat_activity). Running our statement: wait on, and ask again a period later.
 * Waiting for us, gone, or the server unreachable over a new connection too: the link is dead, so
 * the socket is destroyed with a clear error, the pending query fails with it, and the server rolls
 * the transaction back when it sees the close (or when we end the backend, if we can reach it).
 * Idle connections (nothing owed) are never probed.
 */
const CANCEL_REQUEST_CODE = 80877102

function isCancelRequest(chunk: unknown): boolean {
  return Buffer.isBuffer(chunk) && chunk.length === 16 && chunk.readInt32BE(4) === CANCEL_REQUEST_CODE
}

/**
 * Reads a stream of protocol messages chunk by chunk and calls onMessage with each one's type
 * byte (0 for the untyped start-up message that opens the client's side).
 */
function messageTypes(onMessage: (type: number) => void, untypedFirst: boolean): (chunk: Buffer) => void {
  let untyped = untypedFirst
  let header = Buffer.alloc(0) // a header split across chunks
  let rest = 0 // bytes of the current message still to come
  return (chunk) => {
    for (let i = 0; i < chunk.length; ) {
      if (rest > 0) {
        const n = Math.min(rest, chunk.length - i)
        rest -= n
        i += n
        continue
      }
      const size = untyped ? 4 : 5
      const take = Math.min(size - header.length, chunk.length - i)
      header = Buffer.concat([header, chunk.subarray(i, i + take)])
      i += take
      if (header.length < size) return
      onMessage(untyped ? 0 : header[0])
      rest = header.readInt32BE(size - 4) - 4
      header = Buffer.alloc(0)
      untyped = false
    }
  }
}

const READY_FOR_QUERY = 0x5a // Z
// Each of these is answered by exactly one ReadyForQuery: start-up (0), Query (Q), Sync (S).
const ANSWERED_BY_READY = new Set([0, 0x51, 0x53])

function watchProgress(s: net.Socket, watch: StallWatch, state: SocketState): void {
  // A count of answers owed, not "we wrote after we last read": with pipelined statements the
  // server answers the first and is still owing the rest while it runs the next one.
  let requests = 0
  let answers = 0
  let lastProgress = Date.now()
  let probing = false
  let reading = false
  const written = messageTypes((type) => void (ANSWERED_BY_READY.has(type) && requests++), true)
  const read = messageTypes((type) => void (type === READY_FOR_QUERY && answers++), false)
  const onData = (chunk: Buffer) => {
    lastProgress = Date.now()
    read(chunk)
  }
  const write = s.write
  // postgres.js adds its 'data' listener before its first write: ours comes after, so the stream
  // is never put in flowing mode before postgres.js listens.
  s.write = function (this: net.Socket, chunk: unknown, encoding?: unknown, cb?: unknown) {
    if (!reading) {
      // A CancelRequest's socket is never answered, by design: not ours to watch (and postgres.js
      // would leave the error of its destroyed socket unhandled).
      if (isCancelRequest(chunk)) {
        clearInterval(tick)
        s.write = write
        return (write as (...args: unknown[]) => boolean).call(this, chunk, encoding, cb)
      }
      reading = true
      s.on('data', onData)
    }
    written(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'))
    const callback = (typeof encoding === 'function' ? encoding : cb) as ((err?: Error | null) => void) | undefined
    const done = (err?: Error | null) => {
      if (!err) lastProgress = Date.now()
      callback?.(err)
    }
    const call = write as (this: net.Socket, ...args: unknown[]) => boolean
    return typeof encoding === 'function' ? call.call(this, chunk, done) : call.call(this, chunk, encoding, done)
  } as typeof s.write
  const tick = setInterval(async () => {
    const owed = requests > answers || s.writableLength > 0
    if (probing || s.destroyed || !owed || Date.now() - lastProgress < watch.stallMs) return
    probing = true
    const asked = Date.now()
    const pid = state.backend?.socket === s ? state.backend.pid : undefined
    const verdict = await watch.probe(pid).catch((): StallVerdict => 'unknown')
    probing = false
    // Something moved while we asked: the answer may be stale.
    if (s.destroyed || lastProgress >= asked) return
    if (verdict === 'busy' || verdict === 'unknown') {
      lastProgress = Date.now() // ask again one period later
      return
    }
    s.destroy(watch.error(verdict))
  }, Math.max(50, Math.min(1000, watch.stallMs / 4)))
  tick.unref()
  s.once('close', () => clearInterval(tick))
}
