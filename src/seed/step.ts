// What the seed's parts share: one statement at a time in the seed's transaction, each cancellable.
import type postgres from 'postgres'

/** Runs one statement of the transaction, unless the seed was interrupted (see cancel.ts). */
export type Step = <T>(q: postgres.PendingQuery<postgres.Row[]>) => Promise<T>

/** COPYs lines into a table; `shown`: the table the user knows, not our staging table's name. */
export type Copy = (table: string, columns: readonly string[], lines: Iterable<string>, shown?: string) => Promise<number>

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`
