// provision's command shape (issue 13.4) and every subcommand's help (issue 12): the new spellings
// against the fake Neon API and a real local server, the old ones rewritten into them, and what
// commander refuses. Usage and help run in-process through run(); the rest as the built CLI.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { rewriteLegacyProvision } from '../src/provision/aliases.js'
import { runCli, runInProcess, tempDir, type CliOptions } from './helpers/cli.js'
import { cluster } from './helpers/db.js'
import { useFakeNeon } from './helpers/fake-neon.js'

/** The CLI in this process, its output collected. */
const runIn = (argv: string[], env: CliOptions['env'] = {}) => runInProcess(argv, { cleanEnv: true, env })

describe('every subcommand help: examples and the global options', () => {
  const commands = [
    ['init'], ['health'], ['seed'], ['migrate', 'up'], ['migrate', 'down'], ['migrate', 'status'], ['migrate', 'create'],
    ['provision'], ['provision', 'neon'], ['provision', 'neon', 'list'], ['provision', 'neon', 'delete-branch'],
    ['provision', 'local'], ['provision', 'local', 'start'], ['provision', 'local', 'stop'], ['provision', 'local', 'destroy'],
  ]
  it.each(commands.map((c) => [c.join(' '), c]))('%s --help', async (_, cmd) => {
    const r = await runIn([...cmd, '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Examples?:\n {2}\$ (NEON_API_KEY=\S+ )?todo-db /m)
    const globals = r.stdout.slice(r.stdout.indexOf('Global Options:'))
    expect(r.stdout).toContain('Global Options:')
    for (const flag of ['--database-url <url>', '--json', '-q, --quiet', '-v, --verbose']) expect(globals).toContain(flag)
  })

  it('an old provision spelling with --help shows the help of what it means', async () => {
    for (const [argv, usage] of [
      [['provision', 'list', '--help'], 'provision neon list'],
      [['provision', '--local', '--stop', '--help'], 'provision local stop'],
      [['provision', '--project', 'x', '-h'], 'provision neon'],
      [['provision', '--help'], 'provision neon|local'],
    ] as const) {
      const r = await runIn([...argv])
      expect(r.code, argv.join(' ')).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^Usage: todo-db ${usage.replace('|', '\\|')} \\[`))
    }
  })

  it('migrate status does not offer --lock-timeout, which it never uses; up and down do', async () => {
    expect((await runIn(['migrate', 'status', '--help'])).stdout).not.toContain('--lock-timeout')
    expect((await runIn(['migrate', 'status', '--lock-timeout', '5s'])).code).toBe(3)
    for (const cmd of ['up', 'down']) expect((await runIn(['migrate', cmd, '--help'])).stdout).toContain('--lock-timeout')
  })

  it('each provision subcommand shows only its own flags; the env file is --dotenv, never --env-file', async () => {
    const help = async (...cmd: string[]) => {
      const text = (await runIn([...cmd, '--help'])).stdout
      return text.slice(text.indexOf('Options:'), text.indexOf('Global Options:'))
    }
    expect(await help('provision', 'local', 'stop')).not.toMatch(/--dotenv|--project|--branch|--database/)
    expect(await help('provision', 'neon', 'list')).not.toMatch(/--dotenv|--branch|--url-format/)
    expect(await help('provision', 'local', 'start')).not.toMatch(/--project|--branch|--api-key/)
    for (const cmd of [['provision', 'neon'], ['provision', 'local', 'start'], ['provision', 'neon', 'delete-branch']]) {
      const text = await help(...cmd)
      expect(text).toContain('--dotenv <path>')
      // Node 20 takes --env-file in a script's own arguments (nodejs/node#54232): never the documented name.
      expect(text).not.toContain('--env-file')
    }
  })
})

describe('provision: what commander refuses', () => {
  it.each([
    [['provision', 'local', '--branch', 'x'], /unknown option '--branch'/],
    [['provision', 'local', 'stop', '--dotenv', 'x.env'], /unknown option '--dotenv'/],
    [['provision', 'local', 'stop', '--destroy'], /unknown option '--destroy'/],
    [['provision', 'neon', 'list', '--branch', 'x'], /unknown option '--branch'/],
    [['provision', 'neon', 'delete-branch', 'x', '--expires-in', '7d'], /unknown option '--expires-in'/],
    [['provision', 'neon', 'delete-branch'], /missing required argument 'name'/],
    [['provision', 'neon', 'delete-branch', ' '], /'name'.*empty/],
    // The old spellings, rewritten into the new shape, are refused the same way.
    [['provision', '--local', '--branch', 'x'], /unknown option '--branch'/],
    [['provision', '--local', '--stop', '--destroy'], /unknown option '--destroy'/],
    [['provision', '--stop'], /unknown option '--stop'/],
    [['provision', '--delete-branch', 'a', '--branch', 'b'], /unknown option '--branch'/],
    [['provision', 'lsit'], /unknown command 'provision lsit'/],
  ])('%j: exit 3, one line', async (argv, message) => {
    const r = await runIn(argv as string[], { NEON_API_KEY: 'k', NEON_API_HOST: 'http://127.0.0.1:9/api/v2' })
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(message as RegExp)
  })
})

describe('the old provision spellings, rewritten', () => {
  const takesValue = (f: string) => ['--project', '--branch', '--dotenv', '--env-file', '--timeout', '--database'].includes(f)
  it.each([
    [[], ['neon']],
    [['--local'], ['local', 'start']],
    [['--local', '--stop', '--timeout', '1s'], ['local', 'stop', '--timeout', '1s']],
    [['--destroy', '--local', '--dotenv', 'x.env'], ['local', 'destroy', '--dotenv', 'x.env']],
    [['--project', 'todo', '--delete-branch', 'dev-a'], ['neon', 'delete-branch', 'dev-a', '--project', 'todo']],
    [['--delete-branch=dev-a'], ['neon', 'delete-branch', 'dev-a']],
    [['list', '--project', 'todo'], ['neon', 'list', '--project', 'todo']],
    [['--project', 'todo', 'list'], ['neon', 'list', '--project', 'todo']],
    // A value is never taken for a command or a flag.
    [['--project', 'list', '--branch', '--local'], ['neon', '--project', 'list', '--branch', '--local']],
    [['--project', 'todo', '--branch', 'dev'], ['neon', '--project', 'todo', '--branch', 'dev']],
  ])('%j -> %j', (tokens, argv) => {
    expect(rewriteLegacyProvision(tokens, takesValue)).toEqual({ argv })
  })
  it('--help alone is provision\'s own', () => {
    expect(rewriteLegacyProvision(['--help'], takesValue)).toEqual({ help: true })
    expect(rewriteLegacyProvision(['list', '-h'], takesValue)).toEqual({ argv: ['neon', 'list', '-h'] })
  })
  it('a word that is not list is an unknown command', () => {
    expect(rewriteLegacyProvision(['lsit'], takesValue)).toEqual({ unknownCommand: 'lsit' })
  })
})

describe('provision neon, list and delete-branch against the fake Neon API', () => {
  const c = cluster()
  const fake = useFakeNeon()
  const neon = (args: string[], opts: CliOptions = {}) =>
    runCli(args, { ...opts, env: { NEON_API_KEY: fake.apiKey, NEON_API_HOST: fake.url, NODE_EXTRA_CA_CERTS: c.caFile, ...opts.env } })

  it('neon --branch, neon list, neon delete-branch: each flag reaches its subcommand, wherever it stands', async () => {
    const cwd = tempDir()
    const project = `todo-${Math.random().toString(36).slice(2, 8)}`
    // The documented env-file flag through `node bin/todo-db.js` (as runCli runs it) on a new file.
    const made = await neon(['provision', 'neon', '--project', project, '--branch', 'dev-a', '--dotenv', 'new.env', '--json'], { cwd })
    expect(made.code, made.stderr).toBe(0)
    expect(JSON.parse(made.stdout)).toMatchObject({ ok: true, branch: { name: 'dev-a', created: true }, envFile: { path: 'new.env', created: true } })
    expect(parseEnv(readFileSync(join(cwd, 'new.env'), 'utf8')).DATABASE_URL).toMatch(/^postgresql:\/\//)
    expect(existsSync(join(cwd, '.env'))).toBe(false)

    for (const argv of [['provision', 'neon', 'list', '--project', project, '--json'], ['provision', 'neon', '--project', project, 'list', '--json']]) {
      const listed = await neon(argv)
      expect(listed.code, listed.stderr).toBe(0)
      expect(JSON.parse(listed.stdout).project.name).toBe(project)
      expect(JSON.parse(listed.stdout).branches.map((b: { name: string }) => b.name)).toContain('dev-a')
    }

    const deleted = await neon(['provision', 'neon', 'delete-branch', 'dev-a', '--project', project, '--dotenv', 'new.env', '--json', '--yes'], { cwd })
    expect(deleted.code, deleted.stderr).toBe(0)
    expect(JSON.parse(deleted.stdout)).toMatchObject({ ok: true, deleted: { name: 'dev-a' }, envRemoved: ['DATABASE_URL', 'DATABASE_URL_UNPOOLED'] })
    expect(fake.projects.find((p) => p.name === project)!.branches.map((b) => b.name)).not.toContain('dev-a')
  })
})

describe('provision local start|stop|destroy', () => {
  const cwd = tempDir('todo-db-local-')
  afterAll(async () => {
    if (existsSync(join(cwd, '.todo-db'))) await runCli(['provision', 'local', 'destroy', '--yes'], { cwd })
  })

  it('local (start by default), local stop, local start, local destroy', async () => {
    const made = await runCli(['provision', 'local', '--json'], { cwd })
    expect(made.code, made.stderr).toBe(0)
    expect(JSON.parse(made.stdout)).toMatchObject({ ok: true, provider: 'local', action: 'create' })
    const stopped = await runCli(['provision', 'local', 'stop', '--json'], { cwd })
    expect(JSON.parse(stopped.stdout)).toMatchObject({ ok: true, action: 'stop', wasRunning: true })
    const started = await runCli(['provision', 'local', 'start', '--json'], { cwd })
    expect(JSON.parse(started.stdout)).toMatchObject({ ok: true, action: 'start' })
    const destroyed = await runCli(['provision', 'local', 'destroy', '--json', '--yes'], { cwd })
    expect(JSON.parse(destroyed.stdout)).toMatchObject({ ok: true, action: 'destroy', envRemoved: ['DATABASE_URL'] })
    expect(existsSync(join(cwd, '.todo-db', 'postgres'))).toBe(false)
  })
})
