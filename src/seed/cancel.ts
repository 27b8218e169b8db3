// Cancelling on SIGINT/SIGTERM: the statement running on the server is cancelled there (a
// CancelRequest through postgres.js's query.cancel()), so no seed query outlives the process and
// the transaction rolls back. Stopping the client alone would leave the server busy with it.

export interface Cancellable {
  cancel(): unknown
}

export interface Cancellation {
  /** Remembers q as the statement to cancel on abort; cancels it at once if already aborted. */
  track<Q extends Cancellable>(q: Q): Q
  /**
   * After the connection dropped: the server may still be running the statement (it notices a
   * dead client only when it next reads or writes), so send it a CancelRequest on a new connection.
   * Best effort, bounded by timeoutMs.
   */
  cancelOnServer(timeoutMs: number): Promise<void>
  throwIfAborted(): void
  /** Why it was aborted (SIGINT, SIGTERM), for messages. */
  reason(): string
  dispose(): void
}

export function cancellation(signal: AbortSignal, interrupted: () => Error): Cancellation {
  let current: Cancellable | undefined
  const cancelCurrent = () => {
    const pending = current?.cancel() as Promise<unknown> | null | undefined
    // The CancelRequest may fail (server gone); the statement's own error says what happened.
    void pending?.catch?.(() => {})
  }
  signal.addEventListener('abort', cancelCurrent, { once: true })
  return {
    track(q) {
      current = q
      if (signal.aborted) cancelCurrent()
      return q
    },
    async cancelOnServer(timeoutMs) {
      if (!current) return
      const pending = Promise.resolve(forceCancel(current)).catch(() => {})
      let timer: NodeJS.Timeout | undefined
      await Promise.race([pending, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))])
      clearTimeout(timer)
    },
    throwIfAborted() {
      if (signal.aborted) throw interrupted()
    },
    reason: () => String(signal.reason ?? 'aborted'),
    dispose() {
      signal.removeEventListener('abort', cancelCurrent)
    },
  }
}

/**
 * Settles with p, or rejects with interrupted() as soon as the signal fires: connecting retries
 * for as long as a Neon compute takes to wake, and Ctrl-C must not wait for that. What p yields
 * after an abort is handed to discard (e.g. a connection to close).
 */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal, interrupted: () => Error, discard: (late: T) => void): Promise<T> {
  if (signal.aborted) {
    p.then(discard, () => {})
    return Promise.reject(interrupted())
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.then(discard, () => {})
      reject(interrupted())
    }
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/**
 * query.cancel() of postgres.js sends a CancelRequest only for a query it counts as active; one
 * whose connection failed, or a COPY that has its stream, is not, though the server may still be
 * running it. The query keeps the server's key (pid, secret), so the request can still be sent.
 */
export function forceCancel(q: Cancellable): unknown {
  ;(q as { active?: boolean }).active = true
  return q.cancel()
}
