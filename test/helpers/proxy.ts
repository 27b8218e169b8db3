// A TCP proxy on loopback that forwards to a real server, or misbehaves on purpose:
// refuse (nothing listening), drop (accept, then close), blackhole (accept, never answer),
// delay (forward after a pause), starting (answer as a server still starting up: 57P03),
// and cut() to kill every live connection mid-flight.
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
  /** Connections accepted so far. */
  accepted: number
  /** Starts listening (a fresh proxy from listenLater() refuses until then). */
  listen(): Promise<void>
  /** Destroys every open connection, both sides. */
  cut(): void
  close(): Promise<void>
}

export async function startProxy(target: { host: string; port: number }, mode: ProxyMode = 'forward', opts: { listenLater?: boolean } = {}): Promise<FaultProxy> {
  const port = await freePort()
  const sockets = new Set<Socket>()
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
            client.pipe(upstream)
            upstream.pipe(client)
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
