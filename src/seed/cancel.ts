// Cancelling on SIGINT/SIGTERM: the statement running on the server is cancelled there (a
// CancelRequest through postgres.js's query.cancel()), so no seed query outlives the process and
// the transaction rolls back. Stopping the client alone would leave the server busy with it.

export interface Cancellable {
  cancel(): unknown
}

export interface Cancellation {
  /** Remembers q as the statement to cancel on abort; cancels it at once if already aborted. */
  track<Q extends Cancellable>(q: Q): Q
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
    throwIfAborted() {
      if (signal.aborted) throw interrupted()
    },
    reason: () => String(signal.reason ?? 'aborted'),
    dispose() {
      signal.removeEventListener('abort', cancelCurrent)
    },
  }
}
