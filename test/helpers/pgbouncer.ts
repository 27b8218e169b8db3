// A real PgBouncer in transaction pool mode in front of the suite's cluster, on a free loopback
// port: what a pooled DATABASE_URL (pgbouncer=true, Neon's -pooler) talks to in production.
// PgBouncer refuses to run as root; as root we start it with -u postgres and give it its files.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort, pgUrl } from './cluster.js'

export const PGBOUNCER_BIN = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer'

export interface PgBouncer {
  host: string
  port: number
  /** A pooled URL (pgbouncer=true) for a database behind it. */
  url(database: string, params?: string): string
  /** PgBouncer's own log so far: useful when a test fails. */
  log(): string
  stop(): Promise<void>
}

export interface Upstream {
  host: string
  port: number
  user: string
  password: string
}

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`

export async function startPgBouncer(upstream: Upstream, opts: { poolMode?: 'transaction' | 'session' } = {}): Promise<PgBouncer> {
  if (!existsSync(PGBOUNCER_BIN)) throw new Error(`PgBouncer is not installed at ${PGBOUNCER_BIN} (apt-get install pgbouncer; .ci/run does it)`)
  const dir = mkdtempSync(join(tmpdir(), 'todo-db-pgbouncer-'))
  const port = await freePort()
  const asRoot = userInfo().uid === 0
  const ini = join(dir, 'pgbouncer.ini')
  const logFile = join(dir, 'pgbouncer.log')
  // The password in clear in the userlist lets PgBouncer answer the client's SCRAM and do its
  // own SCRAM login to the server: the same scram-sha-256 a Neon pooler speaks.
  writeFileSync(join(dir, 'userlist.txt'), `${quote(upstream.user)} ${quote(upstream.password)}\n`, { mode: 0o600 })
  writeFileSync(ini, [
    '[databases]',
    `* = host=${upstream.host} port=${upstream.port}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    "unix_socket_dir = ''",
    'auth_type = scram-sha-256',
    `auth_file = ${join(dir, 'userlist.txt')}`,
    `pool_mode = ${opts.poolMode ?? 'transaction'}`,
    'max_client_conn = 200',
    'default_pool_size = 10',
    // No ignore_startup_parameters: PgBouncer's stock configuration, which refuses any startup
    // parameter it does not track (postgres.js sends only user, database, client_encoding and
    // application_name; todo-db SETs its timeouts after connecting).
    `logfile = ${logFile}`,
    'admin_users = ',
    '',
  ].join('\n'))
  if (asRoot) for (const f of ['', ...readdirSync(dir)]) chownSync(join(dir, f), uid('postgres'), gid('postgres'))

  const child: ChildProcess = spawn(PGBOUNCER_BIN, [...(asRoot ? ['-u', 'postgres'] : []), ini], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const log = () => {
    try {
      return output + readFileSync(logFile, 'utf8')
    } catch {
      return output
    }
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    await waitForPort(port, child, 10_000)
  } catch (e) {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`PgBouncer did not start: ${(e as Error).message}\n${log()}`)
  }
  return {
    host: '127.0.0.1',
    port,
    url: (database, params = 'sslmode=disable&pgbouncer=true') => pgUrl({ ...upstream, host: '127.0.0.1', port, database, params }),
    log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function waitForPort(port: number, child: ChildProcess, ms: number): Promise<void> {
  const until = Date.now() + ms
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`it exited with code ${child.exitCode}`))
      if (Date.now() > until) return reject(new Error(`nothing listens on port ${port} after ${ms} ms`))
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => (s.destroy(), resolve()))
      s.once('error', () => (s.destroy(), setTimeout(attempt, 50)))
    }
    attempt()
  })
}

function idOf(flag: '-u' | '-g', name: string): number {
  return Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim())
}
const uid = (name: string) => idOf('-u', name)
const gid = (name: string) => idOf('-g', name)
