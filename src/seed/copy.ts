// Streams generated lines into COPY FROM STDIN (postgres.js), in ~64 KB chunks as they are made:
// one write per row is several times slower, and waiting for the socket to drain between chunks
// keeps memory bounded whatever the number of rows.
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { forceCancel, type Cancellation } from './cancel.js'

export const CHUNK_CHARS = 64 * 1024

/** The CopyFail message: the server reports and logs it as the reason the COPY failed. */
export const CANCELLED = 'todo-db seed: interrupted'

/** The part of a postgres.js Query that COPY needs. */
interface CopyQuery extends Promise<unknown> {
  writable(): Promise<Writable>
  cancel(): unknown
}
export interface CopySql {
  unsafe(query: string): unknown
}

export interface CopyTarget {
  table: string
  columns: readonly string[]
}

/**
 * postgres.js resolves a COPY query with its stream. When the server rejects the data after end()
 * (a constraint on the last rows, a cancel), the error goes to that already settled query and the
 * stream never finishes (postgres.js issue #1173). Hooking the query's reject lets us see it.
 */
function serverErrors(q: CopyQuery): Promise<never> {
  const hooked = q as unknown as { reject: (e: unknown) => unknown }
  const failed = new Promise<never>((_, reject) => {
    const original = hooked.reject
    hooked.reject = (e) => (reject(e), original(e))
  })
  failed.catch(() => {}) // observed through the races below
  return failed
}

export interface CopyProgress {
  /** Rows handed to the socket since the last call. */
  rows?(count: number): void
  /** Every row is sent; the server still checks foreign keys (after-row triggers) before it answers. */
  sent?(): void
}

/** Copies every line (COPY text format, "\n"-terminated) into the table; returns the row count. */
export async function copyLines(
  sql: CopySql,
  target: CopyTarget,
  lines: Iterable<string>,
  guard: Cancellation,
  progress: CopyProgress = {},
): Promise<number> {
  const q = guard.track(sql.unsafe(`copy ${target.table} (${target.columns.join(', ')}) from stdin`) as CopyQuery)
  const failed = serverErrors(q)
  const stream = await Promise.race([q.writable(), failed])
  // Errors also reach `failed`; without a listener an 'error' between two awaits would crash.
  stream.on('error', () => {})
  // Once COPY IN has started, postgres.js no longer counts the query as active and its cancel()
  // does nothing. While we still send rows, the protocol's own way out is CopyFail, which
  // postgres.js sends when the stream is destroyed: the server aborts the COPY at once. After
  // end() (or once the connection dropped) the server may still run every row's foreign-key
  // trigger, for seconds: that needs a CancelRequest (forceCancel).
  guard.track({
    cancel() {
      if (!stream.writableEnded && !stream.destroyed) return stream.destroy(new Error(`${CANCELLED} (${guard.reason()})`))
      return forceCancel(q)
    },
  })

  let rows = 0
  let chunk = ''
  let chunkRows = 0
  const flush = async () => {
    const full = !stream.write(Buffer.from(chunk))
    rows += chunkRows
    progress.rows?.(chunkRows)
    chunk = ''
    chunkRows = 0
    if (full) await Promise.race([once(stream, 'drain'), failed])
  }
  for (const line of lines) {
    chunk += line
    chunkRows++
    if (chunk.length >= CHUNK_CHARS) await flush()
  }
  if (chunkRows > 0) await flush()
  stream.end()
  progress.sent?.()
  await Promise.race([once(stream, 'finish'), failed])
  return rows
}
