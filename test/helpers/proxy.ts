// A TCP proxy on loopback that forwards to a real server, or misbehaves on purpose:
// refuse (nothing listening), drop (accept, then close), blackhole (accept, never answer),
// delay (forward after a pause), starting (answer as a server still starting up: 57P03),
// and cut() to kill every live connection mid-flight. In any forwarding mode, `latencyMs` holds
// every chunk that long in each direction (a link of 2 x latencyMs round trip), and the proxy
// counts round trips: `turns` (the client sent after the server had answered) and the server's
// ReadyForQuery ('Z') messages, the end of each answer (countable on unencrypted links only).
import { createServer, connect, type Server, type Socket } from 'node:net'
import { freePort } from './cluster.js'

export type ProxyMode = 'forward' | 'drop' | 'blackhole' | 'delay' | 'starting'

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
  /** Times the client sent after the server had answered: the round trips it waited for. */
  turns: number
  /** ReadyForQuery messages from the server (unencrypted links only). */
  readyForQuery: number
  /** Connections accepted so far. */
  accepted: number
  /** Starts listening (a fresh proxy from listenLater() refuses until then). */
  listen(): Promise<void>
  /** Destroys every open connection, both sides. */
  cut(): void
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
 * Counts 'Z' messages in the server's byte stream: after the one-byte answer to an SSLRequest
 * ('N'), messages are a type byte and a 4-byte length. Stops counting if the link turns to TLS.
 */
function readyForQueryCounter(onZ: () => void): (chunk: Buffer) => void {
  let skip = 0 // bytes of the current message still to pass
  let head = Buffer.alloc(0)
  let tls = false
  let first = true
  return (chunk) => {
    if (tls) return
    let i = 0
    if (first) {
      first = false
      // The answer to an SSLRequest is one byte: 'S' (TLS from here on) or 'N' (plain messages follow).
      if (chunk[0] === 0x53) return void (tls = true)
      if (chunk[0] === 0x4e) i = 1
    }
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i)
        skip -= n
        i += n
        continue
      }
      const part = chunk.subarray(i, i + 5 - head.length)
      head = Buffer.concat([head, part])
      i += part.length
      if (head.length < 5) continue
      if (head[0] === 0x5a) onZ()
      skip = head.readUInt32BE(1) - 4
      head = Buffer.alloc(0)
    }
  }
}

export async function startProxy(target: { host: string; port: number }, mode: ProxyMode = 'forward', opts: { listenLater?: boolean } = {}): Promise<FaultProxy> {
  const port = await freePort()
  const sockets = new Set<Socket>()
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
          if (proxy.mode === 'blackhole') return // read nothing, answer nothing
          if (proxy.mode === 'starting') {
            client.once('data', () => client.end(startingUpError()))
            return
          }
          const open = () => {
            const upstream = connect(target.port, target.host)
            sockets.add(upstream)
            upstream.on('close', () => (sockets.delete(upstream), client.destroy()))
            upstream.on('error', () => client.destroy())
            client.on('close', () => upstream.destroy())
            let serverSpoke = true
            const countZ = readyForQueryCounter(() => proxy.readyForQuery++)
            client.on('data', () => {
              if (serverSpoke) proxy.turns++
              serverSpoke = false
            })
            upstream.on('data', (chunk: Buffer) => {
              serverSpoke = true
              countZ(chunk)
            })
            if (proxy.latencyMs) {
              later(client, upstream, () => proxy.latencyMs)
              later(upstream, client, () => proxy.latencyMs)
            } else {
              client.pipe(upstream)
              upstream.pipe(client)
            }
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
    cut() {
      for (const s of sockets) s.destroy()
      sockets.clear()
    },
    async close() {
      proxy.cut()
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
    },
  }
  if (!opts.listenLater) await proxy.listen()
  return proxy
}
