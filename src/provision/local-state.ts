// Where the local server lives in the project, and what we keep to reach it again.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { registerSecret } from '../errors.js'
import { replaceFile } from './envfile.js'

export const LOCAL_DIR = '.todo-db'
export const LOCAL_USER = 'postgres'
export const LOCAL_DATABASE = 'todo'

export interface LocalPaths {
  dir: string
  data: string
  state: string
  log: string
  lock: string
}

/** What we need to reach the server again; the password is why this file is 0600. */
export interface LocalState {
  port: number
  user: string
  password: string
  database: string
}

export function localPaths(cwd: string): LocalPaths {
  const dir = join(cwd, LOCAL_DIR)
  const data = join(dir, 'postgres')
  return { dir, data, state: join(dir, 'local.json'), log: join(data, 'server.log'), lock: join(dir, 'lock') }
}

export function localUrl(s: Pick<LocalState, 'user' | 'password' | 'port' | 'database'>): string {
  return `postgres://${s.user}:${encodeURIComponent(s.password)}@127.0.0.1:${s.port}/${encodeURIComponent(s.database)}?sslmode=disable`
}

/** A cluster is there once initdb's PG_VERSION is (it is made elsewhere and moved in whole). */
export const clusterExists = (paths: LocalPaths) => existsSync(join(paths.data, 'PG_VERSION'))

export function readState(path: string): LocalState | undefined {
  if (!existsSync(path)) return undefined
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as LocalState
    registerSecret(s.password)
    return s
  } catch {
    return undefined
  }
}

/** Like the env file: 0600, whole or not at all, never through a link planted beside it. */
export function writeState(path: string, s: LocalState): void {
  replaceFile(path, JSON.stringify(s, null, 2) + '\n')
}
