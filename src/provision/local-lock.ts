// One `provision --local` at a time per project: two at once both ran initdb into the same
// folder and both failed. A lock file made with an exclusive create, holding the owner's pid, so
// a lock left by a run killed outright (kill -9, power loss) is seen as stale and taken over.
import { randomBytes } from 'node:crypto'
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import type { Deadline } from '../duration.js'
import { failed, interrupted } from '../errors.js'
import type { Output } from '../output.js'
import type { LocalPaths } from './local-state.js'

export interface LockInput {
  paths: LocalPaths
  deadline: Deadline
  signal: AbortSignal
  out: Output
  /** false (stop, destroy): no .todo-db folder means nothing to guard, and none is made. */
  create?: boolean
}

const POLL_MS = 100
/** A breaker that died between its two steps leaves lock.break: after this long it is ignored. */
const BREAK_STALE_MS = 10_000

function holder(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it exists, as another user's process.
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The lock appears whole, with our pid in it, or not at all: written aside, then hard-linked. */
function tryAcquire(lock: string): boolean {
  const temp = `${lock}.${randomBytes(6).toString('hex')}`
  writeFileSync(temp, `${process.pid}\n`, { flag: 'wx', mode: 0o600 })
  try {
    linkSync(temp, lock)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  } finally {
    rmSync(temp, { force: true })
  }
}

/**
 * Removes a lock whose owner is gone. Breakers take turns (lock.break, exclusive), and each looks
 * again once it has its turn: the lock may be a live run's by then, which must not be removed.
 */
function breakStale(lock: string, deadPid: number): void {
  const breaker = `${lock}.break`
  try {
    writeFileSync(breaker, `${process.pid}\n`, { flag: 'wx', mode: 0o600 })
  } catch {
    try {
      if (Date.now() - statSync(breaker).mtimeMs > BREAK_STALE_MS) rmSync(breaker, { force: true })
    } catch {
      // gone meanwhile
    }
    return
  }
  try {
    if (holder(lock) === deadPid) rmSync(lock, { force: true })
  } finally {
    rmSync(breaker, { force: true })
  }
}

const pause = (signal: AbortSignal) => new Promise<void>((resolve) => {
  const done = () => (clearTimeout(timer), signal.removeEventListener('abort', done), resolve())
  const timer = setTimeout(done, POLL_MS)
  signal.addEventListener('abort', done)
})

/** Runs `fn` holding the project's local-server lock; waits for another run to finish first. */
export async function withLocalLock<T>(input: LockInput, fn: () => Promise<T>): Promise<T> {
  const { paths, deadline, signal, out } = input
  if (!existsSync(paths.dir)) {
    if (input.create === false) return fn()
    mkdirSync(paths.dir, { recursive: true, mode: 0o711 })
  }
  let told: number | undefined
  for (;;) {
    if (signal.aborted) throw interrupted(signal.reason, 'nothing was changed')
    if (tryAcquire(paths.lock)) break
    const pid = holder(paths.lock)
    if (pid !== undefined && !alive(pid)) {
      out.debug(`a lock left by pid ${pid}, which is gone: taking it over`)
      breakStale(paths.lock, pid)
      continue
    }
    const who = pid === undefined ? 'another todo-db provision --local' : `another todo-db provision --local (pid ${pid})`
    if (deadline.expired()) {
      throw failed(`${who} is still at work on ${paths.dir}; nothing was changed`, {
        code: 'LOCAL_BUSY', hint: `try again when it is done; if no such run exists, remove ${paths.lock}`,
      })
    }
    if (told !== pid) out.info(`waiting for ${who} to finish with ${paths.dir}`)
    told = pid
    await pause(signal)
  }
  try {
    return await fn()
  } finally {
    if (holder(paths.lock) === process.pid) rmSync(paths.lock, { force: true })
  }
}
