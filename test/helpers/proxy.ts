// A TCP proxy on loopback that forwards to a real server, or misbehaves on purpose:
// refuse (nothing listening), drop (accept, then close), blackhole (accept, never answer),
// delay (forward after a pause), starting (answer as a server still starting up: 57P03),
// stall (a frozen link: see stall()), and cut() to kill every live connection mid-flight. In any
// forwarding mode, `latencyMs` holds every chunk that long in each direction (a link of
// 2 x latencyMs round trip), and the proxy counts the round trips the client waited for (`turns`)
// and the server's ReadyForQuery messages.
import { createServer, connect, type Server, type Socket } from 'node:net'
import { freePort } from './cluster.js'

export type ProxyMode = 'forward' | 'drop' | 'blackhole' | 'delay' | 'starting' | 'stall'

/** The ErrorResponse a PostgreSQL server sends while it starts up (SQLSTATE 57P03). */
function startingUpError(): Buffer {
  const fields = Buffer.from('SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0')
  const head = Buffer.alloc(5)
  head.write('E')
  head.writeUInt32BE(fields.length + 4, 1)
  return Buffer.concat([head, fields])
}

export interface FaultProxy {
  port: number
  mode: ProxyMode
  delayMs: number
  /** Held in each direction before forwarding, in order; 0: forward at once. */
  latencyMs: number
  /**
   * Round trips the client waited for: times it sent after the server had spoken and with every
   * query it had sent answered (a pipelined query sent while others are in flight is no wait).
   * On a TLS link queries cannot be told apart: every send after the server spoke counts.
   */
  turns: number
  /** ReadyForQuery messages from the server (unencrypted links only). */
  readyForQuery: number
  /** Connections accepted so far. */
  accepted: number
  /** Starts listening (a fresh proxy from listenLater() refuses until then). */
  listen(): Promise<void>
  /**
   * Freezes the link: open connections stop forwarding in both directions (what arrives is held,
   * as a frozen proxy's kernel still ACKs), their sockets stay open, and a close still reaches the
   * other side. New connections are accepted and never answered, unless newConnections is 'forward'
   * (only the flows already open froze, as when a NAT entry or one proxy worker hangs).
   */
  stall(opts?: { newConnections?: 'stall' | 'forward' }): void
  /** Forwards again, what was held first. */
  resume(): void
  /** Destroys every open connection, both sides. */
  cut(): void
  /**
   * Destroys the client side of every open connection and keeps the server side open, reading and
   * dropping what the server sends: a middlebox that lost the client's flow while the server's
   * stays up until its keepalive notices. What the client sent before is still delivered.
   */
  cutClients(): void
  close(): Promise<void>
}

/** Forwards from → to, each chunk held `ms()` first, in order. */
function later(from: Socket, to: Socket, ms: () => number): void {
  const queue: { at: number; chunk: Buffer }[] = []
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    timer = undefined
    while (queue.length && queue[0].at <= Date.now()) to.write(queue.shift()!.chunk)
    if (queue.length) timer = setTimeout(flush, queue[0].at - Date.now())
  }
  from.on('data', (chunk: Buffer) => {
    queue.push({ at: Date.now() + ms(), chunk })
    timer ??= setTimeout(flush, ms())
  })
  from.on('end', () => (queue.length ? setTimeout(() => to.end(), ms() + 1) : to.end()))
}

/**
 * Reads one direction's byte stream as protocol messages and calls `onType` with each message's
 * type byte (0 for an untyped one). A stream starts with `untyped` length-prefixed messages (the client's SSLRequest or
 * startup message); the server's one-byte answer to an SSLRequest is skipped. Stops at TLS.
 */
function messageReader(side: 'client' | 'server', link: { tls: boolean }, onType: (type: number) => void): (chunk: Buffer) => void {
  let untyped = side === 'client' ? 1 : 0
  let skip = 0 // bytes of the current message still to pass
  let head = Buffer.alloc(0)
  let first = true
  return (chunk) => {
    if (link.tls) return
    let i = 0
    if (side === 'server' && first) {
      // The answer to an SSLRequest is one byte: 'S' (TLS from here on) or 'N' (plain messages follow).
      if (chunk[0] === 0x53 && chunk.length === 1) return void (link.tls = true)
      if (chunk[0] === 0x4e && chunk.length === 1) return
    }
    first = false
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i)
        skip -= n
        i += n
        continue
      }
      const size = untyped ? 8 : 5
      const part = chunk.subarray(i, i + size - head.length)
      head = Buffer.concat([head, part])
      i += part.length
      if (head.length < size) continue
      if (untyped) {
        untyped--
        const code = head.readUInt32BE(4)
        if (code === 80877103 || code === 80877104) untyped++ // SSLRequest, GSSENCRequest: the startup follows
        onType(0)
        skip = head.readUInt32BE(0) - 8
      } else {
        onType(head[0])
        skip = head.readUInt32BE(1) - 4
      }
      head = Buffer.alloc(0)
    }
  }
}

export async function startProxy(target: { host: string; port: number }, mode: ProxyMode = 'forward', opts: { listenLater?: boolean } = {}): Promise<FaultProxy> {
  const port = await freePort()
  const sockets = new Set<Socket>()
  const links = new Set<{ frozen: boolean; thaw(): void }>()
  const orphans = new Set<() => void>()
  let server: Server | undefined
  const proxy: FaultProxy = {
    port,
    mode,
    delayMs: 0,
    latencyMs: 0,
    turns: 0,
    readyForQuery: 0,
    accepted: 0,
    listen() {
      return new Promise((resolve, reject) => {
        server = createServer((client) => {
          proxy.accepted++
          sockets.add(client)
          client.on('close', () => sockets.delete(client))
          client.on('error', () => {})
          if (proxy.mode === 'drop') return void client.destroy()
          if (proxy.mode === 'blackhole' || proxy.mode === 'stall') return // read nothing, answer nothing
          if (proxy.mode === 'starting') {
            client.once('data', () => client.end(startingUpError()))
            return
          }
          const open = () => {
            const upstream = connect(target.port, target.host)
            sockets.add(upstream)
            upstream.on('close', () => (sockets.delete(upstream), client.destroy()))
            upstream.on('error', () => client.destroy())
            let orphaned = false
            client.on('close', () => orphaned || upstream.destroy())
            const orphan = () => {
              orphaned = true
              client.destroy()
            }
            orphans.add(orphan)
            client.on('close', () => orphans.delete(orphan))
            // By hand rather than pipe(), so that a frozen link can hold data and still pass a close on.
            const held: [Socket, Buffer][] = []
            const link = {
              frozen: false,
              tls: false,
              thaw() {
                link.frozen = false
                for (const [to, d] of held.splice(0)) to.write(d)
              },
            }
            links.add(link)
            client.on('close', () => links.delete(link))
            // A send is a wait when it carries a message the server answers (not Terminate, 'X').
            let [serverSpoke, outstanding, waiting] = [true, 0, false]
            const readClient = messageReader('client', link, (t) => {
              if (waiting && t !== 0x58) [proxy.turns, waiting] = [proxy.turns + 1, false]
              if (t === 0x51 || t === 0x53) outstanding++
            })
            const readServer = messageReader('server', link, (t) => t === 0x5a && (proxy.readyForQuery++, (outstanding = Math.max(0, outstanding - 1))))
            client.on('data', (chunk: Buffer) => {
              waiting ||= serverSpoke && outstanding === 0
              serverSpoke = false
              if (link.tls) [proxy.turns, waiting] = [proxy.turns + (waiting ? 1 : 0), false]
              else readClient(chunk)
            })
            upstream.on('data', (chunk: Buffer) => {
              serverSpoke = true
              readServer(chunk)
            })
            const forward = (from: Socket, to: Socket) => {
              // A delayed link is not frozen by the tests: latency and stall() are used apart.
              if (proxy.latencyMs) return later(from, to, () => proxy.latencyMs)
              from.on('data', (d) => (link.frozen ? held.push([to, d]) : to.destroyed || to.write(d)))
              from.on('end', () => to.end())
            }
            forward(client, upstream)
            forward(upstream, client)
          }
          if (proxy.mode === 'delay') {
            client.pause()
            setTimeout(() => (client.resume(), open()), proxy.delayMs)
          } else open()
        })
        server.on('error', reject)
        server.listen(port, '127.0.0.1', () => resolve())
      })
    },
    stall(opts = {}) {
      for (const l of links) l.frozen = true
      if (opts.newConnections !== 'forward') proxy.mode = 'stall'
    },
    resume() {
      proxy.mode = 'forward'
      for (const l of links) l.thaw()
    },
    cut() {
      for (const s of sockets) s.destroy()
      sockets.clear()
    },
    cutClients() {
      for (const orphan of orphans) orphan()
    },
    async close() {
      proxy.cut()
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
    },
  }
  if (!opts.listenLater) await proxy.listen()
  return proxy
}
