// Opens the socket for postgres.js and negotiates SSL ourselves, so that:
//  - a server that refuses SSL when the URL requires it is a clear error at once (postgres.js
//    would start a TLS handshake anyway and fail with a bare ECONNRESET, which looks transient);
//  - we know whether the connection really uses TLS (health reports it);
//  - the deadline covers the TCP connect and the TLS handshake too.
import net from 'node:net'
import tls from 'node:tls'
import type { Deadline } from '../duration.js'
import type { DbTarget } from './url.js'

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

export interface SocketState {
  /** Set once a connection is established: did it use TLS? */
  tls?: boolean
}

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

/** TLS options for a mode that uses SSL; undefined for disable. */
export type TlsChoice = { mode: 'disable' } | { mode: 'optional' | 'required'; options: tls.ConnectionOptions }

export function socketFactory(t: DbTarget, tlsChoice: TlsChoice, deadline: Deadline, state: SocketState) {
  return () =>
    new Promise<net.Socket>((resolve, reject) => {
      const unix = t.host.startsWith('/')
      // noDelay, as libpq sets TCP_NODELAY: with Nagle's algorithm a message written in pieces
      // (COPY data, then CopyDone and Sync) waits for the server's delayed ACK, 40 ms each time.
      const raw = unix ? net.connect({ path: `${t.host}/.s.PGSQL.${t.port}` }) : net.connect({ host: t.host, port: t.port, noDelay: true })
      let current: net.Socket = raw
      let done = false
      const fail = (e: Error) => {
        if (done) return
        done = true
        clearTimeout(timer)
        current.destroy()
        raw.destroy()
        reject(e)
      }
      const succeed = (s: net.Socket, usedTls: boolean) => {
        if (done) return
        done = true
        clearTimeout(timer)
        s.removeAllListeners('error')
        state.tls = usedTls
        resolve(s)
      }
      const timer = setTimeout(
        () => fail(codedError('CONNECT_TIMEOUT', `connect timeout ${t.host}:${t.port}`)),
        // A later socket of the same instance (postgres.js's CancelRequest, a reconnect) comes after
        // the connect deadline has passed: it gets a budget of the same length of its own.
        Math.max(1, state.tls === undefined ? deadline.remaining() : deadline.ms),
      )
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
