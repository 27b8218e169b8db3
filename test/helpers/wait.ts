// The suite's one way to synchronise with a process or server under test: poll for the
// condition itself (a session in pg_stat_activity, a row, a request seen, a line printed),
// never sleep for a guessed time. A fixed sleep is too short on a loaded machine and wasted
// time on an idle one.

export interface WaitOptions {
  /** What is awaited, for the failure message ("a session waiting for the migration lock"). */
  what: string
  /** Fails the test after this long; generous, as the machine may be loaded. */
  timeoutMs?: number
  /** How often to look. */
  everyMs?: number
}

/**
 * Polls check until it returns a truthy value, and resolves with that value. Rejects with
 * "timed out after N ms waiting for <what>" if it never does.
 */
export async function waitFor<T>(check: () => T | Promise<T>, opts: WaitOptions): Promise<NonNullable<T>> {
  const { what, timeoutMs = 15_000, everyMs = 25 } = opts
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
