// Making the cluster: initdb with the generated password, whole or not at all.
import { randomBytes } from 'node:crypto'
import { chownSync, closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { failed, interrupted } from '../errors.js'
import type { Output } from '../output.js'
import { run, type Binaries, type Ids } from './local-binaries.js'
import { writeState, type LocalPaths, type LocalState } from './local-state.js'

const PASSWORD_FILE_PREFIX = 'pg-password-'

/**
 * initdb reads the superuser's password from a file. It is made in .todo-db (0711: others cannot
 * list it), under a random name, created exclusively with mode 0600, and given to the user initdb
 * runs as; it is removed as soon as initdb is done.
 */
function writePasswordFile(dir: string, password: string, ids: Ids): string {
  const path = join(dir, `${PASSWORD_FILE_PREFIX}${randomBytes(8).toString('hex')}`)
  const fd = openSync(path, 'wx', 0o600)
  try {
    writeSync(fd, password + '\n')
  } finally {
    closeSync(fd)
  }
  if (ids.uid !== undefined) chownSync(path, ids.uid, ids.gid!)
  return path
}

async function initdb(bin: Binaries, data: string, paths: LocalPaths, state: LocalState, ids: Ids, signal: AbortSignal, out: Output): Promise<void> {
  mkdirSync(data, { mode: 0o700 })
  if (ids.uid !== undefined) chownSync(data, ids.uid, ids.gid!)
  const pwfile = writePasswordFile(paths.dir, state.password, ids)
  try {
    const r = await run(bin.initdb, [
      `--pgdata=${data}`, `--username=${state.user}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256',
      // The same cluster on every machine, whatever the user's locale: UTF-8, C ordering.
      '--encoding=UTF8', '--no-locale',
    ], { ids, cwd: paths.dir, signal, timeoutMs: 120_000 })
    out.debug(r.output)
    if (r.code !== 0 && !signal.aborted) {
      throw failed(`could not create the local PostgreSQL cluster: initdb: ${r.output.split('\n').filter(Boolean).pop()}`, { code: 'LOCAL_INIT_FAILED' })
    }
  } finally {
    rmSync(pwfile, { force: true })
  }
}

/**
 * initdb into a folder beside the real one, then the settings, then a rename into place: failed or
 * interrupted at any point, the project has a whole cluster with its settings, or none. A run
 * killed outright leaves only postgres.new (and perhaps the password file), which the next run
 * clears.
 */
export async function createCluster(bin: Binaries, paths: LocalPaths, state: LocalState, ids: Ids, signal: AbortSignal, out: Output): Promise<void> {
  const fresh = `${paths.data}.new`
  const notCreated = () => interrupted(signal.reason, 'the local PostgreSQL was not created')
  const clear = () => {
    rmSync(fresh, { recursive: true, force: true })
    for (const f of readdirSync(paths.dir)) if (f.startsWith(PASSWORD_FILE_PREFIX)) rmSync(join(paths.dir, f), { force: true })
  }
  clear()
  try {
    await initdb(bin, fresh, paths, state, ids, signal, out)
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
