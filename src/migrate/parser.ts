// PostgreSQL's own parser and scanner (libpg-query: the server's grammar compiled to
// WebAssembly), loaded only by migrate, and only once.
import { setFlagsFromString } from 'node:v8'

export type PgQuery = typeof import('libpg-query')
let parser: Promise<PgQuery> | undefined
let loaded: PgQuery | undefined

/**
 * Starts loading the parser; call it early so it overlaps connecting. V8 compiles WebAssembly
 * functions when first called, and the parser's first parse took some 30 ms, about what loading
 * takes: a first small parse here compiles the grammar while we wait for the server.
 */
export function loadParser(): Promise<PgQuery> {
  // V8 compiles WebAssembly for a quick start (Liftoff), then again, optimised (TurboFan), in the
  // background, and a process waits for that at exit: for the parser's 1.7 MB, most of a second
  // after the work was done. Liftoff's code parses a migration in about a millisecond. This
  // process runs no other WebAssembly that could miss the optimising tier.
  if (!parser) setFlagsFromString('--liftoff-only')
  parser ??= import('libpg-query').then(async (m) => {
    await m.loadModule()
    m.parseSync("create table t (id int primary key, s text default 'x'); create function f() returns trigger language plpgsql as $$ begin return new; end $$; begin; commit")
    loaded = m
    return m
  })
  return parser
}

/** The parser once loadParser() has finished, for code that must stay synchronous (masking a log line). */
export const loadedParser = (): PgQuery | undefined => loaded
