// Runs the chosen migrations with node-pg-migrate (its Migration unit; its runner for non-SQL
// files) on our locked session, each file in its own transaction. What node-pg-migrate does not
// do for a client it was given (issue #1752: a failed migration leaves the transaction open), we
// do here: roll back before anyone reuses the session, so the lock can be released and nothing
// of the failing file remains.
import type postgres from 'postgres'
import type { MigrationAction } from 'node-pg-migrate/migration'
import type { MigrationBuilderActions } from 'node-pg-migrate/sqlMigration'
import type { Output } from '../output.js'
import type { DbTarget } from '../db/url.js'
import { IGNORE_PATTERN, isPlainSql, runsOutsideTransaction, type MigrationFile } from './files.js'
import { TodoDbError, interrupted } from '../errors.js'
import { classifyError } from '../classify.js'
import { endBackend, withSql } from '../db/connection.js'
import { Deadline } from '../duration.js'
import { JOURNAL_SCHEMA, journalStatements, readJournal } from './journal.js'
import { migrationFailure } from './failure.js'
import { createRunnerClient, type Piece, type RunnerClient } from './runner-client.js'
import { maskSql } from './mask.js'
import { loadParser } from './parser.js'
import { sectionOf, type Section } from './statements.js'
import { GUARD, pipelinePieces, type PipelinePlan } from './pipeline.js'
import { MIGRATE_APPLICATION_NAME } from './session.js'

export interface EngineRun {
  conn: postgres.ReservedSql
  direction: 'up' | 'down'
  /** The migrations to run, in order; the runner picks the same ones by count. */
  plan: MigrationFile[]
  /** Every file, so the runner can check order and we can map errors to files. */
  files: MigrationFile[]
  dir: string
  table: string
  cwd: string
  target: DbTarget
  out: Output
  signal: AbortSignal
  /** One transaction around the whole plan (node-pg-migrate's singleTransaction). */
  singleTransaction: boolean
  /**
   * The server process behind `conn`: on a lost session it is ended, then the journal read back.
   * Redo leaves it out: redo commits its one transaction itself, after both halves answered, so
   * a session lost inside it never committed, and its journal would show the rows from before.
   */
  pid?: number
}

export interface Ran {
  name: string
  ms: number
}

const MARKER = /^### MIGRATION (.+) \((UP|DOWN)\) ###$/

let sqlEngine: Promise<[typeof import('node-pg-migrate/migration'), typeof import('node-pg-migrate/sqlMigration')]> | undefined

/**
 * Loads node-pg-migrate's migration unit (some 130 modules, the biggest part of a `migrate up`
 * on a small schema). Called before connecting, so the loading overlaps the network round trips.
 */
export function loadSqlEngine() {
  sqlEngine ??= Promise.all([import('node-pg-migrate/migration'), import('node-pg-migrate/sqlMigration')])
  return sqlEngine
}

/**
 * Whether the plan goes through node-pg-migrate's runner: only when a file is not a plain SQL
 * migration (JavaScript or TypeScript, an .up.sql/.down.sql pair). The runner reads SQL files itself.
 */
export const needsRunner = (plan: MigrationFile[]) => !plan.every(isPlainSql)

/** node-pg-migrate's actions for the file; for a no-transaction file, told so (pgm.noTransaction()). */
function actionsOf(file: MigrationFile, getActions: (content: string) => MigrationBuilderActions): MigrationBuilderActions {
  const actions = getActions(file.content)
  if (!runsOutsideTransaction(file)) return actions
  const outside = (action?: MigrationAction | false): MigrationAction | false | undefined =>
    typeof action === 'function' ? (pgm) => { pgm.noTransaction(); return action(pgm) } : action
  return { up: outside(actions.up), down: outside(actions.down) }
}

type Logger = { debug(m: unknown): void; info(m: unknown): void; warn(m: unknown): void; error(m: unknown): void }

/** Which migration is under way, for the summary and for what a failure or Ctrl-C left. */
interface Progress {
  /** `name` is under way from now (ends the one before). */
  start(name: string): void
  /** The one under way is done. */
  finish(): void
}

/**
 * A run of files, each in a transaction of its own (or all in one with --single-transaction),
 * sent pipelined: see pipeline.ts for why that is as safe as one file at a time. A file counts
 * as done when the answer to its COMMIT (with --single-transaction: its journal row) comes back.
 */
async function applyPipelined(run: EngineRun, client: RunnerClient, files: PipelinePlan['files'], progress: Progress): Promise<void> {
  const pieces = pipelinePieces({ direction: run.direction, table: run.table, singleTransaction: run.singleTransaction, files })
  const names = files.map((f) => f.file.name)
  run.out.debug(`-- ${files.length} migration(s) pipelined; after BEGIN each statement is sent as "${GUARD}<statement>" (see pipeline.ts)`)
  progress.start(names[0])
  await client.send(pieces, (piece) => {
    if (!piece.migration || !(run.singleTransaction ? piece.journal : piece.commit)) return
    const next = names[names.indexOf(piece.migration) + 1]
    if (next) progress.start(next)
    else progress.finish()
  })
}

/**
 * Applies the plan with node-pg-migrate's Migration, the unit its runner applies: the same
 * transaction wrapping and journal statements. For SQL files we hand it the text we checksummed,
 * so what runs is exactly what was verified, and we skip loading the runner, which brings pg,
 * glob and jiti along (about 80 ms of a 0.2 s `migrate up`). Other kinds go through the runner.
 */
async function applyPlan(run: EngineRun, client: RunnerClient, logger: Logger, sections: Map<string, Section | undefined>, progress: Progress): Promise<void> {
  if (!needsRunner(run.plan)) {
    // Files that run in a transaction go pipelined (pipeline.ts), as many in a row as there
    // are; a no-transaction file (never part of --single-transaction) goes alone, through
    // node-pg-migrate's Migration, as before.
    for (let i = 0; i < run.plan.length;) {
      if (client.aborted) throw interrupted(run.signal.reason, 'nothing was changed')
      const group: PipelinePlan['files'] = []
      for (let f = run.plan[i]; f && !runsOutsideTransaction(f) && sections.get(f.name); f = run.plan[i + group.length]) {
        group.push({ file: f, section: sections.get(f.name)! })
      }
      if (group.length) {
        await applyPipelined(run, client, group, progress)
        i += group.length
        continue
      }
      const [{ Migration }, { getActions }] = await loadSqlEngine()
      const options = { migrationsTable: run.table, migrationsSchema: JOURNAL_SCHEMA, singleTransaction: false }
      await new Migration(client as never, run.plan[i].path, actionsOf(run.plan[i], getActions), options as never, {}, logger as never).apply(run.direction)
      i++
    }
    return
  }
  const { runner } = await import('node-pg-migrate/runner')
  await runner({
    dbClient: client as never,
    dir: run.dir,
    direction: run.direction,
    count: run.plan.length,
    migrationsTable: run.table,
    checkOrder: true,
    ignorePattern: IGNORE_PATTERN,
    noLock: true,
    singleTransaction: run.singleTransaction,
    logger,
    verbose: run.out.verbose,
  })
}

/** What Ctrl-C left behind, for the one-line message. */
const uncertain = (name: string | undefined) =>
  `the connection went before the server's answers came back: ${name ?? 'the migration'} and the files after it may or may not have been committed; see todo-db migrate status before running it again`

/** The link went after the server had run (and the journal records) every file of the run. */
function allDoneThenLost(run: EngineRun, e: unknown, aborted: boolean): TodoDbError {
  const done = `every migration of this run was ${run.direction === 'up' ? 'applied' : 'reverted'} (${run.plan.length}; the migrations table records each)`
  if (aborted) return interrupted(run.signal.reason, `${done} before the signal took effect`)
  const cause = classifyError(e, run.target)
  return new TodoDbError(`${cause.message}; but ${done} before the connection went, so nothing was rolled back`, {
    code: cause.code, exitCode: cause.exitCode, hint: cause.hint, cause: e,
  })
}

function leftByInterrupt(run: EngineRun, name: string | undefined, file: MigrationFile | undefined, kept: number): string {
  if (run.singleTransaction) return 'the run was rolled back; the database is as before'
  if (file && runsOutsideTransaction(file)) return `${name} ran outside a transaction and was cancelled: check what it left (an INVALID index, say)`
  return `${name ?? 'the migration'} was rolled back${kept ? '' : '; the database is as before'}`
}

/**
 * What to send for one of node-pg-migrate's queries, and where it comes from: its journal
 * statements become parameterised ones (journal.ts); a migration's section is located in its file.
 */
function expander(run: EngineRun, sections: Map<string, Section | undefined>, currentFile: () => MigrationFile | undefined) {
  const journal = journalStatements(run.table, run.plan)
  return (text: string, values: unknown[]): Piece[] => {
    const j = journal.get(text)
    if (j) return [{ ...j, journal: true }]
    const file = currentFile()
    if (!file) return [{ text, values }]
    const section = sections.get(file.name)
    // node-pg-migrate appends ";" to a section that does not end with one.
    if (section && section.offset >= 0 && (text === section.sql || text === `${section.sql};`)) {
      // In a transaction, one statement at a time (pipelined: still one round trip), so that an
      // error without a position (a foreign key, a check) still names its statement and line.
      // A no-transaction file goes whole: there a multi-statement text is one implicit
      // transaction, which the user may rely on. Unparsed text too: the server reports it.
      if (!section.statements?.length || runsOutsideTransaction(file)) return [{ text, values, at: section.offset }]
      return section.statements.map((st) => ({ text: st.text, at: section.offset + st.start, statement: true }))
    }
    // node-pg-migrate's BEGIN/COMMIT, a JavaScript migration's SQL: not a place in a file.
    return [{ text, values }]
  }
}

/**
 * What the journal says now: the names it records, or undefined if it cannot be read. With
 * several files in flight, what the server committed is read back, not assumed from the answers
 * that arrived: on a lost session the answers to COMMITs that did happen can be lost with it, so
 * it is read on a new connection. The old backend may outlive our side of the link and still run
 * what it received (a file's COMMIT among it): it is ended first, so what we read stays true.
 */
async function journalNow(run: EngineRun, lost: boolean): Promise<Set<string> | undefined> {
  try {
    // After a signal the answer must come within a second: half a second for the look, then
    // "may or may not" is the honest answer.
    const deadline = new Deadline(run.signal.aborted ? 500 : 5000)
    const rows = lost
      ? await withSql(run.target, { deadline, applicationName: MIGRATE_APPLICATION_NAME }, async (sql) => {
        if (run.pid !== undefined && !(await endBackend(sql, run.pid, MIGRATE_APPLICATION_NAME, deadline))) {
          throw new Error(`the server still runs the lost session (pid ${run.pid})`)
        }
        return readJournal(sql, run.table)
      })
      : await readJournal(run.conn, run.table)
    return new Set(rows.map((a) => a.name))
  } catch (e) {
    run.out.debug(`could not read the journal back (${(e as Error).message})`)
    return undefined
  }
}

export async function runEngine(run: EngineRun): Promise<Ran[]> {
  const byName = new Map(run.files.map((f) => [f.name, f]))
  const sections = new Map(await Promise.all(run.plan.map(async (f) => [f.name, await sectionOf(f, run.direction)] as const)))

  // --verbose prints what is sent, masked (mask.ts), which needs the scanner; a run of
  // JavaScript migrations only would not have loaded it.
  if (run.out.verbose) await loadParser()

  const ran: Ran[] = []
  let current: { name: string; started: number } | undefined
  const client = createRunnerClient(run.conn, {
    expand: expander(run, sections, () => (current ? byName.get(current.name) : undefined)),
    // Only for --verbose: masking scans each statement. The server's message is not SQL: only
    // the statement is read as SQL to be masked.
    log: run.out.verbose ? (sql, note) => run.out.debug(note ? `${maskSql(sql)}\n${note}` : maskSql(sql)) : undefined,
  })
  const finishCurrent = () => {
    if (current) ran.push({ name: current.name, ms: Date.now() - current.started })
    current = undefined
  }
  // The runner announces each migration just before sending its SQL: that is how we know which
  // file a failing statement belongs to.
  const progress: Progress = {
    start(name) {
      finishCurrent()
      current = { name, started: Date.now() }
    },
    finish: finishCurrent,
  }
  // node-pg-migrate's messages may quote the SQL it ran ("Error executing: ..."): masked too.
  const text = (msg: unknown) => maskSql(String(msg))
  const debug = (msg: unknown) => {
    if (run.out.verbose) run.out.debug(text(msg))
  }
  const info = (msg: unknown) => {
    const m = MARKER.exec(String(msg))
    if (m) progress.start(m[1])
    else debug(msg)
  }
  // node-pg-migrate warns that a no-transaction file is "not wrapped in a transaction": the user
  // asked for that, so say it plainly and once.
  const warn = (msg: unknown) => /not wrapped in a transaction/.test(String(msg))
    ? run.out.info(`${current?.name ?? 'the migration'} runs outside a transaction (todo-db:no-transaction)`)
    : run.out.warn(text(msg))
  // node-pg-migrate's debug message is the SQL it is about to send, ending in COMMIT whatever
  // happens: the client logs each statement as it ran or failed instead, and we log the ROLLBACK.
  const logger = { debug: () => {}, info, warn, error: debug }

  const onAbort = () => client.abort(run.signal.reason)
  run.signal.addEventListener('abort', onAbort, { once: true })
  try {
    if (run.signal.aborted) throw interrupted(run.signal.reason, 'nothing was changed')
    await applyPlan(run, client, logger, sections, progress)
    finishCurrent()
    return ran
  } catch (e) {
    if (!client.lost) {
      await run.conn.unsafe('rollback').catch(() => {})
      run.out.debug('ROLLBACK')
    }
    // With one transaction for the run, the rollback took the earlier files along; unless the
    // session was lost, when its COMMIT may have run: the journal, read after ending it, says.
    const readBack = !run.singleTransaction || (client.lost && run.pid !== undefined)
    const journal = readBack ? await journalNow(run, client.lost) : undefined
    const done = (f: MigrationFile) => journal!.has(f.name) === (run.direction === 'up')
    const ms = new Map(ran.map((r) => [r.name, r.ms]))
    const kept = run.singleTransaction ? [] : journal ? run.plan.filter(done).map((f) => ({ name: f.name, ms: ms.get(f.name) ?? 0 })) : ran
    for (const r of kept) run.out.info(`${run.direction === 'up' ? 'applied' : 'reverted'} ${r.name} before the failure (${r.ms} ms)`)
    // A pipelined piece names its migration; else the one the runner announced last. On a lost
    // session the last answer that came back may be older than what ran: the journal decides.
    let name = client.failed?.migration ?? current?.name
    let failed = client.failed
    const firstNotDone = journal && run.plan.find((f) => !done(f))
    if (client.lost && firstNotDone && firstNotDone.name !== name && !run.singleTransaction) [name, failed] = [firstNotDone.name, undefined]
    // Pipelined, the server may have run every file before the link went: the journal says so.
    if (client.lost && journal && !firstNotDone) throw allDoneThenLost(run, e, client.aborted)
    // The session is gone and the journal could not be read: what the server committed is unknown.
    const unknown = client.lost && readBack && !journal
    const file = name ? byName.get(name) : undefined
    if (client.aborted) throw interrupted(run.signal.reason, unknown ? uncertain(name) : leftByInterrupt(run, name, file, kept.length))
    throw migrationFailure(e, {
      cwd: run.cwd, target: run.target, direction: run.direction, name, file,
      failed, wholeRun: run.singleTransaction, table: run.table, uncertain: unknown,
    })
  } finally {
    run.signal.removeEventListener('abort', onAbort)
  }
}
