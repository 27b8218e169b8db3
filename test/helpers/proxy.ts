// A TCP proxy on loopback that forwards to a real server, or misbehaves on purpose:
// refuse (nothing listening), drop (accept, then close), blackhole (accept, never answer),
// delay (forward after a pause), starting (answer as a server still starting up: 57P03),
// stall (a frozen link: see stall()), and cut() to kill every live connection mid-flight.
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
  close(): Promise<void>
}

export async function startProxy(target: { host: string; port: number }, mode: ProxyMode = 'forward', opts: { listenLater?: boolean } = {}): Promise<FaultProxy> {
  const port = await freePort()
  const sockets = new Set<Socket>()
  const links = new Set<{ frozen: boolean; thaw(): void }>()
  let server: Server | undefined
  const proxy: FaultProxy = {
    port,
    mode,
    delayMs: 0,
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
            client.on('close', () => upstream.destroy())
            // By hand rather than pipe(), so that a frozen link can hold data and still pass a close on.
            const held: [Socket, Buffer][] = []
            const link = {
              frozen: false,
              thaw() {
                link.frozen = false
                for (const [to, d] of held.splice(0)) to.write(d)
              },
            }
            links.add(link)
            client.on('close', () => links.delete(link))
            const forward = (from: Socket, to: Socket) => {
              from.on('data', (d) => (link.frozen ? held.push([to, d]) : to.write(d)))
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
    async close() {
      proxy.cut()
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
    },
  }
  if (!opts.listenLater) await proxy.listen()
  return proxy
}
