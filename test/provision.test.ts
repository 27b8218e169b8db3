// provision against a fake Neon API whose branches are real databases on the suite's PostgreSQL:
// the built CLI as a process, checked by exit code, output, the env file and what the API was asked.
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { describe, expect, it } from 'vitest'
import { runCli, secrets, startCli, tempDir, type CliOptions } from './helpers/cli.js'
import { cluster, psql } from './helpers/db.js'
import { startFakeNeon, useFakeNeon } from './helpers/fake-neon.js'
import { waitFor } from './helpers/wait.js'

const c = cluster()
// URIs that reach the suite's cluster; every request and answer held to Neon's spec.
const fake = useFakeNeon()

/** The CLI with the fake API and the test CA (Neon URIs verify the server certificate). */
const neonEnv = (env: CliOptions['env'] = {}) => ({ NEON_API_KEY: fake.apiKey, NEON_API_HOST: fake.url, NODE_EXTRA_CA_CERTS: c.caFile, ...env })
const neon = (args: string[], opts: CliOptions = {}) => runCli(args, { ...opts, env: neonEnv(opts.env) })
const envOf = (dir: string) => parseEnv(readFileSync(join(dir, '.env'), 'utf8')) as Record<string, string>
const calls = (method: string, pattern: RegExp) => fake.requests.filter((r) => r.method === method && pattern.test(r.path)).length
const projectName = () => `todo-${Math.random().toString(36).slice(2, 8)}`

describe('todo-db provision (Neon)', () => {
  it('creates the project and a branch with a compute, and writes the pooled and direct URLs to .env (0600, git-ignored)', async () => {
    const cwd = tempDir()
    const name = projectName()
    const r = await neon(['provision', '--project', name, '--branch', 'dev-x', '--json'], { cwd })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc).toMatchObject({
      ok: true,
      provider: 'neon',
      project: { name, created: true },
      branch: { name: 'dev-x', created: true, default: false, parent: 'main' },
      endpoint: { created: false },
      role: 'neondb_owner',
      database: 'neondb',
      host: 'localhost',
      envFile: { path: '.env', created: true, set: ['DATABASE_URL', 'DATABASE_URL_UNPOOLED'] },
      gitignore: { change: 'created', added: ['.env'] },
    })

    const project = fake.projects.find((p) => p.name === name)!
    const branch = project.branches.find((b) => b.name === 'dev-x')!
    expect(doc.branch.id).toBe(branch.id)
    // The create request asked for a read-write compute, and every operation was waited for.
    const create = fake.requests.find((q) => q.method === 'POST' && q.path.endsWith(`/projects/${project.id}/branches`))
    expect(create).toBeDefined()
    expect(calls('GET', new RegExp(`/projects/${project.id}/operations/`))).toBeGreaterThanOrEqual(2 * fake.operationPolls)

    const env = envOf(cwd)
    // A local fake's pooled URI cannot carry a -pooler host (it must resolve and match the test
    // certificate): both reach the cluster directly. The Neon-form URIs are tested below.
    expect(env.DATABASE_URL_UNPOOLED).toMatch(new RegExp(`^postgresql://${project.pgRole}:[^@]+@localhost:${c.port}/${branch.pgDatabase}\\?sslmode=require&channel_binding=require$`))
    expect(statSync(join(cwd, '.env')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(cwd, '.gitignore'), 'utf8')).toMatch(/^\.env$/m)
    expect(r.stdout).not.toContain(project.password)

    // The URLs work as Neon hands them out: the branch is a real database, reached with certificate checks.
    const health = await neon(['health', '--json'], { cwd })
    expect(health.code).toBe(0)
    expect(JSON.parse(health.stdout)).toMatchObject({ ok: true, ssl: true })
  })

  it('finds the project and branch on a second run instead of creating them again', async () => {
    const cwd = tempDir()
    const name = projectName()
    expect((await neon(['provision', '--project', name, '--branch', 'dev-y'], { cwd })).code).toBe(0)
    const posts = calls('POST', /.*/)
    const again = await neon(['provision', '--project', name, '--branch', 'dev-y', '--parent', 'other', '--verbose'], { cwd })
    expect(again.code).toBe(0)
    expect(again.stderr).toMatch(/warning: branch dev-y exists already \(from main\): --parent other was not used/)
    expect(again.stdout).toMatch(new RegExp(`project +${name} \\(.*\\): found`))
    expect(again.stdout).toMatch(/branch +dev-y \(br-.*\): found, from main/)
    expect(calls('POST', /.*/)).toBe(posts)
    expect(fake.projects.filter((p) => p.name === name)).toHaveLength(1)
    expect(fake.projects.find((p) => p.name === name)!.branches.map((b) => b.name)).toEqual(['main', 'dev-y'])
  })

  it('without --branch, uses the default branch of an existing project', async () => {
    const cwd = tempDir()
    const p = fake.addProject(projectName())
    const r = await neon(['provision', '--project', p.name, '--json'], { cwd })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ project: { id: p.id, created: false }, branch: { name: 'main', default: true, created: false } })
    expect(envOf(cwd).DATABASE_URL_UNPOOLED).toContain(`/${p.branches[0].pgDatabase}?`)
  })

  it('keeps every other line of an existing .env and only replaces the two URLs', async () => {
    const cwd = tempDir()
    const before = '# settings for the app\nSESSION_SECRET=keep-me\n\nDATABASE_URL=postgres://old@localhost/old # the old one\n# end\n'
    writeFileSync(join(cwd, '.env'), before, { mode: 0o644 })
    writeFileSync(join(cwd, '.gitignore'), 'node_modules/\n.env\n')
    const r = await neon(['provision', '--project', projectName(), '--branch', 'dev-z', '--json'], { cwd })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ envFile: { created: false }, gitignore: { change: 'kept' } })
    const lines = readFileSync(join(cwd, '.env'), 'utf8').split('\n')
    expect(lines[0]).toBe('# settings for the app')
    expect(lines[1]).toBe('SESSION_SECRET=keep-me')
    expect(lines[2]).toBe('')
    expect(lines[3]).toMatch(/^DATABASE_URL=postgresql:\/\/.*channel_binding=require$/)
    expect(lines[4]).toBe('# end')
    expect(lines[5]).toMatch(/^DATABASE_URL_UNPOOLED=postgresql:\/\//)
    expect(statSync(join(cwd, '.env')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(cwd, '.gitignore'), 'utf8')).toBe('node_modules/\n.env\n')
  })

  it('warns when what it writes will not be seen: DATABASE_URL in the environment, or another env file', async () => {
    const cwd = tempDir()
    const p = fake.addProject(projectName())
    const shadowed = await neon(['provision', '--project', p.name], { cwd, env: { DATABASE_URL: 'postgres://someone@elsewhere/db' } })
    expect(shadowed.code).toBe(0)
    expect(shadowed.stderr).toMatch(/warning: DATABASE_URL is set in the environment, which wins over \.env/)
    const again = await neon(['provision', '--project', p.name], { cwd })
    expect(again.stderr).toBe('')

    // A new file through --dotenv: Node refuses to start when argv names a missing --env-file.
    mkdirSync(join(cwd, 'config'))
    const other = await neon(['provision', '--project', p.name, '--dotenv', 'config/dev.env'], { cwd })
    expect(other.code).toBe(0)
    expect(other.stderr).toMatch(/warning: todo-db commands read \.\/\.env: load config\/dev\.env/)
    expect(statSync(join(cwd, 'config/dev.env')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(cwd, '.gitignore'), 'utf8')).toMatch(/^config\/dev\.env$/m)
    // An existing file through --env-file.
    const existing = await neon(['provision', '--project', p.name, '--env-file', 'config/dev.env', '--json'], { cwd })
    expect(existing.code).toBe(0)
    expect(JSON.parse(existing.stdout).envFile).toMatchObject({ path: 'config/dev.env', created: false })
    const both = await neon(['provision', '--env-file', '.env', '--dotenv', 'x.env'], { cwd })
    expect(both.code).toBe(0) // --env-file .env is the default: --dotenv decides
    const clash = await neon(['provision', '--env-file', 'config/dev.env', '--dotenv', 'x.env'], { cwd })
    expect(clash.code).toBe(3)
  })

  it('lists the branches of a project (--json and text)', async () => {
    const p = fake.addProject(projectName(), { branches: ['dev-a', 'dev-b'] })
    const r = await neon(['provision', 'list', '--project', p.name, '--json'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.project).toEqual({ id: p.id, name: p.name })
    expect(doc.branches.map((b: { name: string; default: boolean; parent?: string }) => [b.name, b.default, b.parent])).toEqual([
      ['main', true, undefined], ['dev-a', false, 'main'], ['dev-b', false, 'main'],
    ])
    const text = await neon(['provision', 'list', '--project', p.name])
    expect(text.stdout).toMatch(/^ {2}main +br-\S+ +ready +default$/m)
    const missing = await neon(['provision', 'list', '--project', 'no-such-project-here'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/no Neon project named "no-such-project-here"/)
  })

  it('deletes a branch (its database goes), and refuses the default branch without asking the API', async () => {
    const p = fake.addProject(projectName(), { branches: ['dev-gone'] })
    const db = p.branches[1].pgDatabase
    const deletes = calls('DELETE', /.*/)
    const refused = await neon(['provision', '--project', p.name, '--delete-branch', 'main'])
    expect(refused.code).toBe(3)
    expect(refused.stderr).toMatch(/"main" is the default branch/)
    expect(calls('DELETE', /.*/)).toBe(deletes)

    const r = await neon(['provision', '--project', p.name, '--delete-branch', 'dev-gone', '--json', '--yes'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, deleted: { name: 'dev-gone' } })
    expect(p.branches.map((b) => b.name)).toEqual(['main'])
    expect(psql(`select count(*) from pg_database where datname = '${db}'`)).toBe('0')
    // Idempotent, as a CI job closing a pull request needs: gone is done.
    const again = await neon(['provision', '--project', p.name, '--delete-branch', 'dev-gone', '--json', '--yes'])
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, deleted: null, alreadyGone: 'dev-gone' })
  })

  it('deleting a branch removes its URLs from .env, and keeps every other line and a URL the user set', async () => {
    const cwd = tempDir()
    const name = projectName()
    writeFileSync(join(cwd, '.env'), '# mine\nAPP_SECRET=keep-me\n')
    expect((await neon(['provision', '--project', name, '--branch', 'dev-x'], { cwd })).code).toBe(0)
    expect((await neon(['provision', '--project', name, '--branch', 'dev-y', '--dotenv', 'y.env'], { cwd })).code).toBe(0)
    const before = envOf(cwd)
    expect(before.DATABASE_URL).toBeDefined()

    // dev-y's URLs were never in .env: nothing there changes.
    const other = await neon(['provision', '--project', name, '--delete-branch', 'dev-y', '--json', '--yes'], { cwd })
    expect(other.code).toBe(0)
    expect(JSON.parse(other.stdout)).toMatchObject({ deleted: { name: 'dev-y' }, envRemoved: [] })
    expect(envOf(cwd)).toEqual(before)

    const r = await neon(['provision', '--project', name, '--delete-branch', 'dev-x', '--yes'], { cwd })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/deleted branch dev-x .*; removed DATABASE_URL and DATABASE_URL_UNPOOLED from \.env/)
    expect(envOf(cwd)).toEqual({ APP_SECRET: 'keep-me' })
    expect(readFileSync(join(cwd, '.env'), 'utf8')).toMatch(/^# mine$/m)

    // A DATABASE_URL the user wrote by hand is theirs, even when its branch goes.
    const p = fake.projects.find((q) => q.name === name)!
    const mine = projectName()
    expect((await neon(['provision', '--project', mine, '--branch', 'dev-z'], { cwd })).code).toBe(0)
    const edited = envOf(cwd).DATABASE_URL.replace('channel_binding=require', 'channel_binding=prefer')
    writeFileSync(join(cwd, '.env'), `DATABASE_URL=${edited}\n`)
    const kept = await neon(['provision', '--project', mine, '--delete-branch', 'dev-z', '--json', '--yes'], { cwd })
    expect(JSON.parse(kept.stdout)).toMatchObject({ envRemoved: [] })
    expect(envOf(cwd).DATABASE_URL).toBe(edited)
    for (const out of [other, r, kept]) expect(out.stdout + out.stderr).not.toContain(p.password)
  })

  it('exits 1 with the API message when the key is refused (401), and never prints the key', async () => {
    const bad = 'napi_wrong_' + Math.random().toString(36).slice(2)
    secrets.add(bad)
    const cwd = tempDir()
    for (const args of [['provision', '--project', 'x'], ['provision', '--project', 'x', '--json'], ['provision', '--project', 'x', '--api-key', bad, '--verbose']]) {
      const r = await neon(args, { cwd, env: { NEON_API_KEY: bad } })
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr).toMatch(/the Neon API refused the key: authentication failed: the API key is not valid/)
    }
    const doc = JSON.parse((await neon(['provision', '--json'], { cwd, env: { NEON_API_KEY: bad } })).stdout)
    expect(doc).toMatchObject({ ok: false, error: { code: 'API_AUTH', status: 401 } })
    expect(existsSync(join(cwd, '.env'))).toBe(false)
  })

  it('retries a busy project (423) and succeeds', async () => {
    const cwd = tempDir()
    const name = projectName()
    const before = calls('POST', /\/projects$/)
    fake.failNext(423, 2)
    const r = await neon(['provision', '--project', name, '--verbose'], { cwd })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/423 project already has running operations.*retrying/)
    expect(calls('POST', /\/projects$/) - before).toBe(3)
    expect(fake.projects.filter((p) => p.name === name)).toHaveLength(1)
    expect(envOf(cwd).DATABASE_URL).toMatch(/^postgresql:\/\//)
  })

  it('retries reads on 429 and passing 500s', async () => {
    const cwd = tempDir()
    fake.failNext(429, 1, { all: true })
    fake.failNext(500, 2, { all: true })
    const r = await neon(['provision', '--project', projectName(), '--verbose'], { cwd })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/429 rate limit exceeded; retrying in \d+ ms/)
    expect(r.stderr).toMatch(/500 internal server error; retrying/)
  })

  it('exits 2 when the API keeps failing past --timeout', async () => {
    fake.failNext(503, 1000, { all: true, message: 'service unavailable' })
    try {
      const r = await neon(['provision', '--project', projectName(), '--timeout', '1500ms', '--json'])
      expect(r.code).toBe(2)
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'DEADLINE' })
      expect(r.stderr).toMatch(/not done within --timeout \(1500 ms\): the API still answers 503: service unavailable/)
      expect(r.ms).toBeLessThan(6000)
    } finally {
      fake.clearFaults()
    }
  })

  it('stops waiting on operations at once on SIGINT (exit 130), and writes nothing', async () => {
    const cwd = tempDir()
    fake.operationPolls = 10_000
    try {
      const polls = () => calls('GET', /\/operations\/[^/]+$/)
      const before = polls()
      const run = startCli(['provision', '--project', projectName()], { cwd, env: neonEnv() })
      await waitFor(() => polls() > before, { what: "the CLI's first operation poll" })
      run.kill('SIGINT')
      const r = await run.result
      expect(r.code).toBe(130)
      expect(r.ms).toBeLessThan(5000)
      expect(existsSync(join(cwd, '.env'))).toBe(false)
    } finally {
      fake.operationPolls = 2
    }
  })

  it('exits 1 at once, with the API message, when the API refuses a request (404 role)', async () => {
    const p = fake.addProject(projectName())
    const r = await neon(['provision', '--project', p.name, '--role', 'nobody', '--timeout', '30s'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/Neon API, get the pooled connection URI: role "nobody" not found/)
    expect(r.ms).toBeLessThan(5000)
  })

  it('exits 3 naming NEON_API_KEY when there is no key, before any request', async () => {
    const n = fake.requests.length
    const r = await runCli(['provision', '--project', 'x'], { env: { NEON_API_HOST: fake.url } })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/NEON_API_KEY/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    const json = await runCli(['provision', 'list', '--json'], { env: { NEON_API_HOST: fake.url } })
    expect(json.code).toBe(3)
    expect(JSON.parse(json.stdout).error.code).toBe('NO_API_KEY')
    expect(fake.requests.length).toBe(n)
  })

  it('exits 3 for flags that do not go together, or an empty name', async () => {
    for (const args of [['--local', '--branch', 'x'], ['--stop'], ['--delete-branch', 'a', '--branch', 'b'], ['--timeout', 'soon'], ['--project', ' '], ['--local', '--database', '']]) {
      const r = await neon(['provision', ...args])
      expect(r.code, args.join(' ')).toBe(3)
    }
  })
})

describe('todo-db provision (Neon API unreachable)', () => {
  it('exits 2 quickly when nothing answers at NEON_API_HOST', async () => {
    const down = await startFakeNeon()
    await down.close()
    const r = await runCli(['provision', '--project', 'x', '--json'], { env: { NEON_API_KEY: down.apiKey, NEON_API_HOST: down.url } })
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'API_UNREACHABLE' })
    expect(r.ms).toBeLessThan(10_000)
  })
})

describe('scripted dev-branch flow', () => {

  it('provision --branch dev-x, then health with nothing else set', async () => {
    const cwd = tempDir()
    const name = projectName()
    expect((await neon(['provision', '--project', name, '--branch', 'dev-x'], { cwd })).code).toBe(0)
    // Only the CA for the test server; no database URL, no API key.
    const plain = await runCli(['health'], { cwd, env: { NODE_EXTRA_CA_CERTS: c.caFile } })
    expect(plain.code).toBe(0)
    expect(plain.stdout).toMatch(/^accepting connections: localhost:\d+, PostgreSQL 15\.\d+.*ssl/)
  })

  it('provision --branch dev-x && migrate up && seed && health', async () => {
    const cwd = tempDir()
    cpSync(resolve(__dirname, '../migrations'), join(cwd, 'migrations'), { recursive: true })
    const name = projectName()
    expect((await neon(['provision', '--project', name, '--branch', 'dev-x'], { cwd })).code).toBe(0)
    const env = { NODE_EXTRA_CA_CERTS: c.caFile }
    for (const args of [['migrate', 'up'], ['seed'], ['health']]) {
      const r = await runCli(args, { cwd, env })
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
    }
    const branch = fake.projects.find((p) => p.name === name)!.branches.find((b) => b.name === 'dev-x')!
    expect(Number(psql('select count(*) from todos', branch.pgDatabase))).toBeGreaterThan(0)
  })
})
