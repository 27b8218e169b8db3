// Starting, stopping and finding the local server with pg_ctl, which runs it detached: it keeps
// running after the CLI exits, as `provision --local` promises.
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { Deadline } from '../duration.js'
import { failed } from '../errors.js'
import { run, type Binaries, type Ids } from './local-binaries.js'
import type { LocalPaths } from './local-state.js'

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

export async function isRunning(bin: Binaries, data: string, ids: Ids): Promise<boolean> {
  // pg_ctl status: 0 running, 3 not running, 4 no data folder.
  return (await run(bin.pg_ctl, ['status', '-D', data], { ids, cwd: data })).code === 0
}

/** The port of the running server, from the first lines of postmaster.pid. */
export function runningPort(data: string): number | undefined {
  try {
    const port = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[3])
    return Number.isInteger(port) && port > 0 ? port : undefined
  } catch {
    return undefined
  }
}

export async function start(bin: Binaries, paths: LocalPaths, port: number, ids: Ids, deadline: Deadline): Promise<void> {
  // Loopback only, and no Unix socket: nothing outside this machine, no file in /tmp to collide on.
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=`
  const seconds = String(Math.max(5, Math.ceil(deadline.remaining() / 1000)))
  const r = await run(bin.pg_ctl, ['start', '-w', '-t', seconds, '-D', paths.data, '-l', paths.log, '-o', options], {
    ids, cwd: paths.data, timeoutMs: Number(seconds) * 1000 + 5000,
  })
  if (r.code !== 0) {
    const log = existsSync(paths.log) ? readFileSync(paths.log, 'utf8').trim().split('\n').slice(-3).join(' | ') : ''
    throw failed(`the local PostgreSQL did not start: ${r.output.split('\n').pop()}${log ? ` (log: ${log})` : ''}`, {
      code: 'LOCAL_START_FAILED', hint: `see ${paths.log}`,
    })
  }
}

export async function stop(bin: Binaries, data: string, ids: Ids): Promise<void> {
  let r = await run(bin.pg_ctl, ['stop', '-w', '-m', 'fast', '-D', data], { ids, cwd: data })
  if (r.code !== 0) r = await run(bin.pg_ctl, ['stop', '-w', '-m', 'immediate', '-D', data], { ids, cwd: data })
  if (r.code !== 0) throw failed(`the local PostgreSQL did not stop: ${r.output}`, { code: 'LOCAL_STOP_FAILED' })
}
