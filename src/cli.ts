// The commander program: global options, every command's flags and help; run() returns the exit
// code (src/main.ts wires signals, crashes and the exit around it).
// Command modules are imported only when their command runs, so `--help` stays cheap.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { ExitCode, badInput, exitCodesHelp, redact, registerCredentialsIn, registerSecretsOf, toTodoDbError } from './errors.js'
import { loadEnv } from './config.js'
import { createOutput, type OutputOptions } from './output.js'
import { PACKAGE_ROOT } from './package-root.js'
import { rewriteLegacyProvision } from './provision/aliases.js'
import type { Context, GlobalOptions } from './context.js'

export type CommandResult = number | void
type Handler = (ctx: Context, opts: Record<string, any>, args: string[]) => Promise<CommandResult>
interface Loader {
  (): Promise<Handler>
  /** Whether the command reads the config file (default yes). */
  config?: boolean
}

const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }

// Each written out, so that a bundler sees them and they stay lazy.
const COMMANDS = {
  health: () => import('./commands/health.js'),
  init: () => import('./commands/init.js'),
  migrate: () => import('./commands/migrate.js'),
  seed: () => import('./commands/seed.js'),
  provision: () => import('./commands/provision.js'),
}

export interface RunInput {
  argv: string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  streams?: Pick<OutputOptions, 'stdout' | 'stderr'>
}

function buildProgram(run: (load: Loader, cmd: Command, args: string[]) => Promise<void>): Command {
  const lazy = (module: keyof typeof COMMANDS, name = 'run', opts: { config?: boolean } = {}): Loader =>
    Object.assign(async () => {
      const mod = (await COMMANDS[module]()) as Record<string, unknown>
      return mod[name] as Handler
    }, opts)
  const action = (load: Loader) =>
    async function (this: Command, ...params: unknown[]) {
      // commander passes (...args, opts, command)
      const args = params.slice(0, -2).flat().filter((a): a is string => typeof a === 'string')
      await run(load, this, args)
    }

  const program = new Command('todo-db')
    .description('Database administration for the todo app on PostgreSQL / Neon: migrations, seed data, health checks, provisioning.')
    .version(version, '-V, --version', 'print the version')
    .option('--database-url <url>', 'database URL (default: $DATABASE_URL, then DATABASE_URL in ./.env)')
    .option('--json', 'print one JSON document on stdout (for scripts)')
    .option('-q, --quiet', 'print only the result and errors')
    .option('-v, --verbose', 'print what is done and why (to stderr)')
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    // Every command's help lists the global options too; set before the commands, which inherit it.
    // Only the root's: a group's own flags (provision neon's) are not global to its subcommands.
    .configureHelp({
      showGlobalOptions: true,
      visibleGlobalOptions: (cmd: Command): Option[] => {
        let root = cmd
        while (root.parent) root = root.parent
        return root === cmd ? [] : root.options.filter((o) => !o.hidden && o.long !== '--version')
      },
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', `
Examples:
  $ todo-db init                         set up config, .env.example and migrations/
  $ todo-db provision local             start a local PostgreSQL and write DATABASE_URL to .env
  $ todo-db migrate up                   apply pending migrations
  $ todo-db seed --users 10 --todos 500  load deterministic dev data
  $ todo-db health --timeout 5s          exit 0 when the database accepts connections

${exitCodesHelp()}

Environment: DATABASE_URL, DATABASE_URL_UNPOOLED, NEON_API_KEY, NEON_API_HOST, NO_COLOR (see README).`)

  program
    .command('init')
    .description('set up a project: todo-db config, .env.example, .gitignore entry for .env, migrations folder')
    .option('--force', 'overwrite files that exist')
    .option('--migrations-dir <dir>', 'migrations folder to create', 'migrations')
    .addHelpText('after', '\nExample:\n  $ todo-db init && cp .env.example .env')
    .action(action(lazy('init')))

  program
    .command('health')
    .description('check that the database accepts connections (pg_isready-style exit codes)')
    .option('-t, --timeout <duration>', 'hard deadline: 5s, 500ms, 1m or seconds', '5s')
    .addHelpText('after', `
${exitCodesHelp('health', 'Exit codes (as pg_isready):')}

Examples:
  $ todo-db health --timeout 5s
  $ todo-db health --json | jq .latencyMs`)
    .action(action(lazy('health', 'run', { config: false })))

  const migrate = program
    .command('migrate')
    .description('apply, revert, inspect and create SQL migrations')
    .addHelpText('after', `
Examples:
  $ todo-db migrate up                 apply every pending migration
  $ todo-db migrate down               revert the last one
  $ todo-db migrate down --all --yes   revert all of them (more than one asks first, or needs --yes)
  $ todo-db migrate up --to 1764000000001_create-categories --dry-run
  $ todo-db migrate status --json
  $ todo-db migrate status --exit-code  exit 5 when migrations are pending (gate a deploy in CI)
  $ todo-db migrate create add-tags
  $ todo-db migrate baseline          adopt a database made by create_all, Alembic or a dump
  $ todo-db migrate accept NAME       after review, accept an applied file's edit (ends drift)
  $ todo-db migrate redo --yes        revert and re-apply the last migration

Each file runs in its own transaction (--single-transaction: the whole run in one, so a failure
or Ctrl-C leaves the database as it was); a file with the line "-- todo-db:no-transaction"
runs outside one, for CREATE INDEX CONCURRENTLY. Concurrent runs queue on an advisory lock.
up/down need a direct session: with a PgBouncer URL (pgbouncer=true) set DATABASE_URL_UNPOOLED;
a Neon -pooler host is switched to its direct host. status and --dry-run work through a pooler.

${exitCodesHelp('migrate')}`)
  const migrationOptions = (c: Command) =>
    c
      .option('--migrations-dir <dir>', 'folder of SQL migrations (default: config migrationsDir, "migrations")')
      .option('--migrations-table <name>', 'table that records applied migrations (default: pgmigrations)')
      .option('-t, --timeout <duration>', 'give up connecting after this long: 5s, 500ms, 1m30s or seconds (default: timeouts.connect, 10s)')
  // up and down: what they wait for, how the chosen migrations commit, or only show them.
  const applyOptions = (c: Command) =>
    migrationOptions(c)
      .option('--lock-timeout <duration>', 'give up waiting for a table lock, or for another run\'s migration lock, after this long (default: timeouts.lock, 10s; 0: wait)')
      .option('--single-transaction', 'all or nothing: every migration of this run in one transaction')
      .option('--dry-run', 'print the SQL that would run; change nothing')
  applyOptions(
    migrate
      .command('up')
      .description('apply pending migrations, each in its own transaction')
      .argument('[count]', 'apply at most this many')
      .option('--to <name>', 'apply up to and including this migration')
      .addHelpText('after', `
Examples:
  $ todo-db migrate up
  $ todo-db migrate up 1 --dry-run
  $ todo-db migrate up --to 1764000000001_create-categories --single-transaction`),
  ).action(action(lazy('migrate', 'up')))
  applyOptions(
    migrate
      .command('down')
      .description('revert applied migrations (default: the last one)')
      .argument('[count]', 'revert this many')
      .option('--to <name>', 'revert down to, but not including, this migration')
      .option('--all', 'revert every applied migration')
      .option('-y, --yes', 'revert more than one (a count above 1, --to, --all) without asking: needed without a terminal and with --json')
      .addHelpText('after', `
Examples:
  $ todo-db migrate down                revert the last one
  $ todo-db migrate down 2 --dry-run    the migrations and SQL it would revert; more than one asks first
  $ todo-db migrate down --to 1764000000001_create-categories --yes`),
  ).action(action(lazy('migrate', 'down')))
  migrationOptions(
    migrate
      .command('status')
      .description('list migrations: applied, pending, drifted (exit 4 on drift)')
      .option('--exit-code', 'exit 5 when migrations are pending (4 on drift wins), 0 when up to date')
      .addHelpText('after', `
Examples:
  $ todo-db migrate status
  $ todo-db migrate status --exit-code      gate a deploy: exit 5 while migrations are pending
  $ todo-db migrate status --json | jq '.pending'`),
  ).action(action(lazy('migrate', 'status')))
  migrationOptions(
    migrate
      .command('baseline')
      .description('adopt an existing database: record pending migrations as applied without running them, once the objects they create are found')
      .option('--to <name>', 'record up to and including this migration (default: every pending one)')
      .option('--lock-timeout <duration>', 'give up waiting for another run\'s migration lock after this long (default: timeouts.lock, 10s; 0: wait)')
      .addHelpText('after', `
Examples:
  $ todo-db migrate baseline                 a database made by create_all, Alembic or a dump
  $ todo-db migrate baseline --to 1764000000002_create-todos && todo-db migrate up

Checks that the tables, indexes, functions, triggers, types, constraints and columns each Up
section creates exist (names, not definitions); if any is missing it lists them, records
nothing and exits 1.`),
  ).action(action(lazy('migrate', 'baseline')))
  migrationOptions(
    migrate
      .command('accept')
      .description('after review, record an applied migration\'s edited file as it is now (ends its drift); runs no SQL')
      .argument('<name>', 'the migration, as migrate status names it (or its file name)')
      .option('--lock-timeout <duration>', 'give up waiting for another run\'s migration lock after this long (default: timeouts.lock, 10s; 0: wait)')
      .addHelpText('after', `
Examples:
  $ todo-db migrate status                          exit 4: drift: 1764000000002_create-todos was edited ...
  $ git diff HEAD~1 -- migrations/1764000000002_create-todos.sql    review what changed
  $ todo-db migrate accept 1764000000002_create-todos

The database keeps what the file did when it was applied: accept only an edit that changes
nothing there (a comment, formatting), or one you also made in the database yourself.`),
  ).action(action(lazy('migrate', 'accept')))
  migrationOptions(
    migrate
      .command('redo')
      .description('revert the last migration(s) and apply them again, in one transaction (asks first)')
      .argument('[count]', 'redo the last this many (default: 1)')
      .option('--lock-timeout <duration>', 'give up waiting for a table lock, or for another run\'s migration lock, after this long (default: timeouts.lock, 10s; 0: wait)')
      .option('-y, --yes', 'go ahead without asking: needed without a terminal and with --json')
      .option('--dry-run', 'list what it would redo and print the Down, then Up, SQL of each; change nothing (no --yes needed)')
      .addHelpText('after', `
Examples:
  $ todo-db migrate redo              revert and re-apply the last migration (asks first)
  $ todo-db migrate redo 2 --yes      the last two, without asking
  $ todo-db migrate redo 2 --dry-run  what it would revert and re-apply, and the SQL of each

What the reverted migrations made is dropped, rows included, and made again empty. Down and up
run in one transaction under the migration lock: a failure or Ctrl-C leaves the database as it
was. Not for no-transaction files (use down, then up).`),
  ).action(action(lazy('migrate', 'redo')))
  migrate
    .command('create')
    .description('create a new timestamped SQL migration with Up and Down sections')
    .argument('<name>', 'what it does, e.g. add-tags')
    .option('--migrations-dir <dir>', 'folder of SQL migrations')
    .option('--no-transaction', 'mark it to run outside a transaction (CREATE INDEX CONCURRENTLY)')
    .addHelpText('after', `
Examples:
  $ todo-db migrate create add-tags
  $ todo-db migrate baseline          adopt a database made by create_all, Alembic or a dump
  $ todo-db migrate create index-todos-due --no-transaction`)
    .action(action(lazy('migrate', 'create')))

  program
    .command('seed')
    .description('load deterministic, idempotent dev data in one transaction (COPY speed)')
    .option('--seed <n>', 'random seed: the same seed gives the same rows (default: config seed.seed, 42)')
    .option('--users <n>', 'number of users (default: config seed.users, 5)')
    .option('--categories <n>', 'categories per user (default: config seed.categories, 3)')
    .option('--todos <n>', 'todos in all, spread over the users (default: config seed.todos, 50)')
    .option('--today <YYYY-MM-DD>', 'reference day that dates are spread around (default: today, UTC)')
    .option('--reset', 'delete existing users, categories and todos first (same transaction)')
    .option('--cascade', 'with --reset: also empty the tables that refer to users, categories or todos')
    .option('--accept-data-loss', 'also delete surplus seed rows that app rows depend on (those go or lose the reference)')
    .option('--dry-run', 'with --reset: list the tables and rows it would empty; change nothing')
    .option('-y, --yes', 'with --reset: do not ask (needed without a terminal, and with --json)')
    .option('-t, --timeout <duration>', 'give up connecting after this long: 5s, 500ms, 1m or seconds (default: timeouts.connect, 10s)')
    .addHelpText('after', `
Running it again with the same options (and day) leaves the same rows; other seeds' rows and the app's own
rows are left alone unless --reset. Any error, a lost connection, SIGINT or SIGTERM rolls it all back.

${exitCodesHelp('seed')}

Examples:
  $ todo-db seed
  $ todo-db seed --reset --dry-run          what --reset would empty; asks before it does
  $ todo-db seed --seed 7 --users 1000 --todos 300000 --reset --yes --json
  $ todo-db seed --today 2026-01-15          the same rows whenever it runs`)
    .action(action(lazy('seed')))

  // provision: neonctl's shape, each subcommand with only its own flags.
  const nonEmpty = (value: string) => {
    if (value.trim() === '') throw new InvalidArgumentError('it is empty: give it a name')
    return value
  }
  const neonApiOptions = (c: Command) =>
    c
      .addOption(new Option('--project <name>', 'Neon project name').default('todo-db').argParser(nonEmpty))
      .option('--api-key <key>', 'Neon API key (default: $NEON_API_KEY)')
      .option('--api-host <url>', 'Neon API base URL (default: $NEON_API_HOST or https://console.neon.tech/api/v2)')
      .option('--org <id>', 'Neon organization of the project (default: $NEON_ORG_ID; a personal API key may need it)')
      .option('--timeout <duration>', 'give up after this long', '5m')
  const envFileOptions = (c: Command) =>
    c
      .option('--dotenv <path>', 'env file to write the URLs to (default: .env)')
      // Its old name: Node 20 takes --env-file in a script's arguments as its own (nodejs/node#54232)
      // and stops when the file is missing, so it is kept for scripts but no longer shown.
      .addOption(new Option('--env-file <path>').hideHelp())
  const urlFormatOption = (c: Command) =>
    c.option('--url-format <driver>', 'DATABASE_URL as this driver takes it: libpq (default), psycopg, sqlalchemy+psycopg, sqlalchemy+asyncpg, asyncpg, node-postgres')
  // What deletes asks first (src/confirm.ts).
  const destructive = (c: Command) =>
    c
      .option('--dry-run', 'list what would be deleted; delete nothing')
      .option('-y, --yes', 'do not ask (needed without a terminal, and with --json)')
  const namedOption = (flags: string, description: string) => new Option(flags, description).argParser(nonEmpty)

  const provision = program
    .command('provision')
    .usage('neon|local [command] [options]')
    .description('create a Neon project/branch or a local PostgreSQL and write its URLs to .env')
    .addHelpText('after', `
Examples:
  $ todo-db provision local                              a PostgreSQL on this machine, no account
  $ NEON_API_KEY=... todo-db provision neon --project todo --branch dev-alice
  $ todo-db provision neon list --project todo --json
  $ todo-db provision neon delete-branch dev-alice --project todo    asks first (or --yes)
  $ todo-db provision neon --branch dev-alice --reset-from-parent   its data goes: asks first (or --yes)

The spellings from before the subcommands still work: provision --local [--stop|--destroy],
provision --delete-branch NAME, provision list, provision [--project X --branch Y ...] (Neon).

${exitCodesHelp('provision')}`)

  const neon = provision
    .command('neon')
    .description('find or create a Neon project and branch; write DATABASE_URL (pooled) and DATABASE_URL_UNPOOLED')
  neonApiOptions(neon)
    .addOption(namedOption('--branch <name>', 'branch, found or created off --parent (default: the default branch)'))
    .addOption(namedOption('--parent <branch>', 'parent of a new --branch (default: the default branch)'))
    .addOption(namedOption('--region <id>', 'region of a new project, e.g. aws-us-east-2'))
    .addOption(namedOption('--role <name>', 'database role (default: neondb_owner)'))
    .addOption(namedOption('--database <name>', 'database (default: neondb)'))
    .option('--expires-in <duration>', 'with --branch: Neon deletes it after this long since the last run, e.g. 7d, 12h')
    .option('--reset-from-parent', "with --branch: replace its data with its parent's current data (Neon's branch restore); asks first")
    .option('-y, --yes', 'with --reset-from-parent: do not ask (needed without a terminal, and with --json)')
    .option('--github-output', 'in GitHub Actions: branch_id, db_url, db_url_pooled... as step outputs, the password masked')
  envFileOptions(neon)
  urlFormatOption(neon)
    .addHelpText('after', `
Examples:
  $ NEON_API_KEY=... todo-db provision neon --project todo --branch dev-alice
  $ todo-db provision neon --branch dev-x && todo-db migrate up && todo-db seed && todo-db health
  $ todo-db provision neon --branch preview/pr-42 --expires-in 7d --github-output
  $ todo-db provision neon --branch dev-alice --reset-from-parent          asks first, naming the branch
  $ todo-db provision neon --branch "preview/pr-$PR" --reset-from-parent --yes --json
  $ todo-db provision neon --branch dev-alice --dotenv config/dev.env --url-format sqlalchemy+asyncpg`)
    // commander parses a command's flags wherever they stand (positional options would have to start
    // at the root, and then --json could not follow a command), so `neon list --project X` reaches
    // neon: hand each such flag to the subcommand, which refuses those it does not take.
    .hook('preSubcommand', (cmd, sub) => {
      for (const o of cmd.options) {
        const key = o.attributeName()
        if (cmd.getOptionValueSource(key) !== 'cli') continue
        if (!sub.options.some((s) => s.long === o.long)) cmd.error(`error: unknown option '${o.long}' for 'provision neon ${sub.name()}'`, { code: 'commander.unknownOption' })
        sub.setOptionValueWithSource(key, cmd.getOptionValue(key), 'cli')
      }
    })
    .action(action(lazy('provision', 'neon')))
  neonApiOptions(neon.command('list').description("list the Neon project's branches"))
    .addHelpText('after', `
Examples:
  $ todo-db provision neon list --project todo
  $ todo-db provision neon list --project todo --json | jq -r '.branches[].name'`)
    .action(action(lazy('provision', 'list')))
  const deleteBranch = neon
    .command('delete-branch')
    .description("delete a Neon branch (never the default one; one already gone is done) and forget its URLs in .env")
    .addArgument(new Argument('<name>', 'the branch').argParser(nonEmpty))
  neonApiOptions(deleteBranch)
    .addOption(namedOption('--role <name>', 'role of the URLs to forget in the env file (default: neondb_owner)'))
    .addOption(namedOption('--database <name>', 'database of the URLs to forget in the env file (default: neondb)'))
  destructive(envFileOptions(deleteBranch))
    .addHelpText('after', `
Examples:
  $ todo-db provision neon delete-branch dev-alice --project todo             asks first
  $ todo-db provision neon delete-branch dev-alice --project todo --dry-run   what it would delete
  $ todo-db provision neon delete-branch "preview/pr-$PR" --yes --json`)
    .action(action(lazy('provision', 'deleteBranch')))

  const local = provision
    .command('local')
    .description('a PostgreSQL on this machine, no account needed: start (the default), stop, destroy')
    .addHelpText('after', `
Examples:
  $ todo-db provision local             create and start, or reuse, or restart
  $ todo-db provision local stop        stop it; the data stays
  $ todo-db provision local destroy     stop it and delete its data (asks first, or --yes)`)
  const localTimeout = (c: Command) => c.option('--timeout <duration>', 'give up after this long', '5m')
  const start = local
    .command('start', { isDefault: true })
    .description('create and start, or reuse, or restart the local server; write DATABASE_URL (the default)')
    .addOption(namedOption('--database <name>', 'database name (default: todo)'))
  envFileOptions(start)
  urlFormatOption(start)
  localTimeout(start)
    .addHelpText('after', `
Examples:
  $ todo-db provision local start
  $ todo-db provision local --url-format sqlalchemy+asyncpg --dotenv backend/.env`)
    .action(action(lazy('provision', 'localStart')))
  localTimeout(local.command('stop').description('stop the local server; its data stays'))
    .addHelpText('after', '\nExample:\n  $ todo-db provision local stop --json')
    .action(action(lazy('provision', 'localStop')))
  const destroy = local.command('destroy').description('stop the local server, delete its data and the DATABASE_URL written for it')
  envFileOptions(destroy)
  destructive(localTimeout(destroy))
    .addHelpText('after', '\nExamples:\n  $ todo-db provision local destroy             asks first\n  $ todo-db provision local destroy --dry-run   what it would delete\n  $ todo-db provision local destroy --yes')
    .action(action(lazy('provision', 'localDestroy')))

  // The old spellings (src/provision/aliases.ts): rewritten, then parsed again as the new shape.
  const subcommandOptions = [neon, ...neon.commands, ...local.commands].flatMap((c) => c.options)
  const takesValue = (flag: string) => subcommandOptions.some((o) => (o.long === flag || o.short === flag) && (o.required || o.optional))
  provision
    .allowUnknownOption()
    .allowExcessArguments()
    // --help, too, is rewritten: `provision list --help` is the help of `provision neon list`.
    .helpOption(false)
    .action(async function (this: Command) {
      const r = rewriteLegacyProvision(this.args, takesValue)
      if ('help' in r) this.outputHelp()
      else if ('unknownCommand' in r) this.error(`error: unknown command 'provision ${r.unknownCommand}' (provision neon, provision local)`, { code: 'commander.unknownCommand' })
      else await this.parseAsync(r.argv, { from: 'user' })
    })

  return program
}

/** Whether argv asks for --json (before any "--"), for errors that come before commander has parsed it. */
export function jsonRequested(argv: string[]): boolean {
  const end = argv.indexOf('--')
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json')
}

/** Runs the CLI and returns the exit code. Never throws, never exits: tests call it directly. */
export async function run(input: RunInput): Promise<number> {
  const cwd = input.cwd ?? process.cwd()
  const env = input.env ?? process.env
  const signal = input.signal ?? new AbortController().signal
  let exitCode: number = ExitCode.OK
  let parseErrorOut = ''
  // Before commander echoes anything: a URL given as a count, a name or an unknown command is
  // masked in every message, in every spelling.
  registerSecretsOf(loadEnv(cwd, env))
  registerCredentialsIn(input.argv)

  const program = buildProgram(async (load, cmd, args) => {
    const globals = cmd.optsWithGlobals() as GlobalOptions & Record<string, unknown>
    const out = createOutput({ ...globals, ...input.streams })
    try {
      const { createContext } = await import('./context.js')
      const ctx = await createContext({ cwd, env, globals, signal, streams: input.streams, loadConfig: load.config })
      const handler = await load()
      const code = await handler(ctx, cmd.opts(), args)
      exitCode = typeof code === 'number' ? code : ExitCode.OK
    } catch (e) {
      const err = toTodoDbError(e)
      out.error(err)
      if (err.code === 'INTERNAL' && globals.verbose && e instanceof Error && e.stack) {
        ;(input.streams?.stderr ?? process.stderr).write(redact(e.stack) + '\n')
      }
      exitCode = err.exitCode
    }
  })

  const stdout = input.streams?.stdout ?? process.stdout
  const stderr = input.streams?.stderr ?? process.stderr
  const applyOutput = (c: Command) => {
    c.exitOverride()
    c.configureOutput({
      writeOut: (s) => stdout.write(s),
      // Parse errors: keep commander's first line (it names the problem), we add what to do.
      writeErr: (s) => void (parseErrorOut += s),
    })
    c.commands.forEach(applyOutput)
  }
  applyOutput(program)

  // Errors before a command runs (usage errors) still answer --json with one document on stdout.
  const usageOut = () => createOutput({ json: jsonRequested(input.argv), ...input.streams })

  try {
    await program.parseAsync(input.argv, { from: 'user' })
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return ExitCode.OK
      if (e.code === 'commander.help') {
        // `todo-db` or `todo-db migrate` alone: a command is missing. Show what there is.
        stderr.write(parseErrorOut)
        const out = usageOut()
        if (out.json) out.result({ ok: false, error: { code: 'USAGE', message: 'a command is missing', hint: 'see todo-db --help' } }, '')
        return ExitCode.BAD_INPUT
      }
      if (e.code === 'commander.executeSubCommandAsync' || e.exitCode === 0) return ExitCode.OK
      const first = (parseErrorOut.split('\n').find((l) => l.trim()) ?? e.message).replace(/^error:\s*/, '')
      const suggestion = parseErrorOut.match(/\(Did you mean [^)]*\)/)?.[0]
      usageOut().error(badInput(first + (suggestion && !first.includes('Did you mean') ? ` ${suggestion}` : ''), 'see todo-db --help', 'USAGE'))
      return ExitCode.BAD_INPUT
    }
    const err = toTodoDbError(e)
    usageOut().error(err)
    return err.exitCode
  }
  return exitCode
}
