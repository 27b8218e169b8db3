// The preview-branch lifecycle a CI job needs, against the spec-validated fake whose branches are
// real databases: --expires-in, --reset-from-parent, --github-output, idempotent delete, and the
// README's GitHub Actions workflow run step by step as a runner would.
import { spawn } from 'node:child_process'
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import yaml from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { BIN, leakedSecret, runCli, tempDir, withoutMasks, type CliOptions } from './helpers/cli.js'
import { jsonContractViolation } from './helpers/json-schema.js'
import { writeGithubOutputs } from '../src/provision/github-output.js'
import { cluster, psql } from './helpers/db.js'
import { useFakeNeon } from './helpers/fake-neon.js'

const c = cluster()
// URIs that reach the suite's cluster; every request and answer held to Neon's spec.
const fake = useFakeNeon()

const neon = (args: string[], opts: CliOptions = {}) =>
  runCli(args, { ...opts, env: { NEON_API_KEY: fake.apiKey, NEON_API_HOST: fake.url, NODE_EXTRA_CA_CERTS: c.caFile, ...opts.env } })
const projectName = () => `todo-${Math.random().toString(36).slice(2, 8)}`
const posts = (pattern: RegExp, from: number) => fake.requests.slice(from).filter((r) => r.method === 'POST' && pattern.test(r.path))
const DAY = 86_400_000

describe('--expires-in', () => {
  it('sets expires_at (seconds precision) on a new branch, and pushes it out on the next run', async () => {
    const name = projectName()
    const n = fake.requests.length
    const r = await neon(['provision', '--project', name, '--branch', 'pr-1', '--expires-in', '7d', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const sent = posts(/\/branches$/, n)[0].body.branch.expires_at as string
    expect(sent).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(Math.abs(Date.parse(sent) - (Date.now() + 7 * DAY))).toBeLessThan(120_000)
    expect(JSON.parse(r.stdout).branch.expiresAt).toBe(sent)
    const branch = fake.projects.find((p) => p.name === name)!.branches.find((b) => b.name === 'pr-1')!
    expect(branch.expires_at).toBe(sent)

    const again = await neon(['provision', '--project', name, '--branch', 'pr-1', '--expires-in', '1d', '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(Math.abs(Date.parse(branch.expires_at!) - (Date.now() + DAY))).toBeLessThan(120_000)
    expect(JSON.parse(again.stdout).branch).toMatchObject({ created: false, expiresAt: branch.expires_at })
  })

  it('exits 3 for a duration it cannot read, or without --branch, before any request', async () => {
    const n = fake.requests.length
    for (const args of [['--branch', 'x', '--expires-in', 'soon'], ['--branch', 'x', '--expires-in', '0d'], ['--expires-in', '7d']]) {
      const r = await neon(['provision', '--project', 'p', ...args])
      expect(r.code, args.join(' ')).toBe(3)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
    expect(fake.requests.length).toBe(n)
  })
})

describe('--reset-from-parent', () => {
  it("gives the branch its parent's current data; the URLs in .env keep working", async () => {
    const cwd = tempDir()
    const name = projectName()
    expect((await neon(['provision', '--project', name, '--branch', 'dev-alice'], { cwd })).code).toBe(0)
    const p = fake.projects.find((x) => x.name === name)!
    const [main, alice] = p.branches
    psql(`create table notes (body text); insert into notes values ('only on alice')`, alice.pgDatabase)
    psql(`create table notes (body text); insert into notes values ('from main')`, main.pgDatabase)

    const n = fake.requests.length
    const r = await neon(['provision', '--project', name, '--branch', 'dev-alice', '--reset-from-parent', '--yes', '--json'], { cwd })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).branch).toMatchObject({ name: 'dev-alice', created: false, reset: true, parent: 'main' })
    expect(posts(/\/branches\/[^/]+\/restore$/, n).map((q) => q.body)).toEqual([{ source_branch_id: main.id }])
    expect(psql('select string_agg(body, \',\') from notes', alice.pgDatabase)).toBe('from main')
    expect((await runCli(['health'], { cwd, env: { NODE_EXTRA_CA_CERTS: c.caFile } })).code).toBe(0)
  })

  it('creates a branch that does not exist yet (the same result), and refuses the default branch', async () => {
    const p = fake.addProject(projectName())
    const n = fake.requests.length
    const fresh = await neon(['provision', '--project', p.name, '--branch', 'dev-new', '--reset-from-parent', '--json'])
    expect(fresh.code, fresh.stderr).toBe(0)
    expect(JSON.parse(fresh.stdout).branch).toMatchObject({ name: 'dev-new', created: true })
    const main = await neon(['provision', '--project', p.name, '--branch', 'main', '--reset-from-parent'])
    expect(main.code).toBe(3)
    expect(main.stderr).toMatch(/"main" is the default branch: it has no parent to reset from/)
    expect(posts(/\/restore$/, n)).toHaveLength(0)
  })
})

describe('--github-output', () => {
  it('masks the password first, then writes the branch id and both URLs as step outputs', async () => {
    const cwd = tempDir()
    const outFile = join(cwd, 'gh-output')
    writeFileSync(outFile, '')
    const name = projectName()
    const r = await neon(['provision', '--project', name, '--branch', 'pr-7', '--github-output'], { cwd, env: { GITHUB_OUTPUT: outFile } })
    expect(r.code, r.stderr).toBe(0)
    const p = fake.projects.find((x) => x.name === name)!
    const lines = r.stderr.split('\n')
    expect(lines[0]).toBe(`::add-mask::${p.password}`)
    // Apart from the mask command (which the runner consumes), no output holds the password.
    expect(lines.slice(1).join('\n') + r.stdout).not.toContain(p.password)
    expect(r.stdout).not.toContain('::add-mask::')
    const outputs = Object.fromEntries(readFileSync(outFile, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    const branch = p.branches.find((b) => b.name === 'pr-7')!
    expect(outputs).toMatchObject({ branch_id: branch.id, branch_name: 'pr-7', created: 'true', db_host: 'localhost', db_host_pooled: 'localhost' })
    expect(outputs.db_url).toContain(`:${p.password}@`)
    expect(outputs.db_url_pooled).toMatch(/^postgresql:\/\//)
  })

  it('with --json: stdout is the one document, the masks are on stderr before the outputs are written', async () => {
    const cwd = tempDir()
    const outFile = join(cwd, 'gh-output')
    writeFileSync(outFile, '')
    const name = projectName()
    const args = ['provision', 'neon', '--project', name, '--branch', 'pr-8', '--github-output', '--json']
    const r = await neon(args, { cwd, env: { GITHUB_OUTPUT: outFile } })
    expect(r.code, r.stderr).toBe(0)
    expect(jsonContractViolation(args, r.stdout)).toBeUndefined()
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, branch: { name: 'pr-8' }, githubOutputs: expect.arrayContaining(['db_url', 'db_url_pooled']) })
    // The runner reads stderr's commands as stdout's (actions/runner ScriptHandler.cs); they come first there.
    const p = fake.projects.find((x) => x.name === name)!
    expect(r.stderr.split('\n')[0]).toBe(`::add-mask::${p.password}`)
    expect(readFileSync(outFile, 'utf8')).toContain(`:${p.password}@`)
    // --quiet silences the log, never the masks.
    const quiet = await neon([...args, '--quiet'], { cwd, env: { GITHUB_OUTPUT: outFile } })
    expect(quiet.code, quiet.stderr).toBe(0)
    expect(quiet.stderr).toBe(`::add-mask::${p.password}\n`)
  })

  // What the runner masks for a `::add-mask::` line: its data, unescaped as actions/runner's
  // ActionCommand.UnescapeData does (%0D, %0A, then %25).
  const runnerMask = (line: string) => line.replace(/^::add-mask::/, '').replaceAll('%0D', '\r').replaceAll('%0A', '\n').replaceAll('%25', '%')
  const urls = (password: string) => {
    const written = encodeURIComponent(password)
    return { branch_id: 'br-x', branch_name: 'x', created: 'true', db_url: `postgresql://r:${written}@h/d`, db_url_pooled: `postgresql://r:${written}@h-pooler/d`, db_host: 'h', db_host_pooled: 'h-pooler' }
  }

  it('sends every mask before it writes a single output', async () => {
    const outFile = join(tempDir(), 'gh-output')
    writeFileSync(outFile, '')
    const seen: Array<{ mask: string; file: string }> = []
    const written = writeGithubOutputs(outFile, urls('p@ss'), (line) => seen.push({ mask: runnerMask(line), file: readFileSync(outFile, 'utf8') }))
    expect(seen.map((s) => s.mask).sort()).toEqual(['p%40ss', 'p@ss'])
    expect(seen.map((s) => s.file)).toEqual(['', ''])
    expect(written).toContain('db_url')
    expect(readFileSync(outFile, 'utf8')).toMatch(/^branch_id=br-x\n/)
  })

  it('escapes the masks as the runner unescapes them: a password with "%" is masked as the URL writes it', async () => {
    const outFile = join(tempDir(), 'gh-output')
    writeFileSync(outFile, '')
    const masks: string[] = []
    writeGithubOutputs(outFile, urls('50%off%0A'), (line) => masks.push(runnerMask(line)))
    // The URL holds 50%25off%250A; the runner must mask that, and the decoded password.
    expect(masks.sort()).toEqual(['50%25off%250A', '50%off%0A'])
    const url = readFileSync(outFile, 'utf8').match(/^db_url=(.*)$/m)![1]
    expect(masks.reduce((log, m) => log.replaceAll(m, '***'), url)).toBe('postgresql://r:***@h/d')
  })

  it('exits 3 when GITHUB_OUTPUT is not set, before any request', async () => {
    const n = fake.requests.length
    const r = await neon(['provision', '--project', 'p', '--branch', 'x', '--github-output'], { env: { GITHUB_OUTPUT: undefined } })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/GITHUB_OUTPUT is not set/)
    expect(fake.requests.length).toBe(n)
  })
})

// ---------------------------------------------------------------------------
// The README's workflow, run as a GitHub runner would: each job's `run` steps in bash, with the
// workflow's env, `${{ }}` expressions, a fresh GITHUB_OUTPUT per step and `steps.<id>.outputs`.
// `uses:` steps are skipped (checkout, setup-node); `npx todo-db` is the built CLI; `npm ci` is a
// no-op and `npm test` stands for the app's tests: it reads the URLs the workflow hands it.

interface Step { id?: string; name?: string; run?: string; uses?: string; env?: Record<string, string> }
interface Workflow { env: Record<string, string>; jobs: Record<string, { if: string; steps: Step[] }> }

function readmeWorkflow(): Workflow {
  const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('#### Preview branches in CI'))
  const block = /```yaml\n([\s\S]*?)```/.exec(section)
  if (!block) throw new Error('no yaml block in the README section "Preview branches in CI"')
  return yaml.load(block[1]) as Workflow
}

function shims(): string {
  const dir = tempDir('todo-db-shims-')
  const write = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`)
    chmodSync(join(dir, name), 0o755)
  }
  write('npx', `[ "$1" = todo-db ] || { echo "npx $1: not in this test" >&2; exit 127; }\nshift\nexec "${process.execPath}" "${BIN}" "$@"`)
  write('npm', `case "$1" in\n  ci) exit 0 ;;\n  test) exec "${process.execPath}" "${BIN}" migrate status ;;\n  *) exit 127 ;;\nesac`)
  return dir
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-e', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', fail)
    child.on('close', (status) => done({ status, stdout, stderr }))
  })
}

async function runJob(wf: Workflow, job: string, event: { action: string; number: number }, base: Record<string, string>, cwd: string) {
  const j = wf.jobs[job]
  const when = /^github\.event\.action (==|!=) '([a-z_]+)'$/.exec(j.if)
  if (!when) throw new Error(`cannot evaluate if: ${j.if}`)
  if ((event.action === when[2]) !== (when[1] === '==')) return []
  const outputs: Record<string, Record<string, string>> = {}
  const expr = (text: string) => text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, e: string) => {
    if (e === 'secrets.NEON_API_KEY') return fake.apiKey
    if (e === 'github.event.number') return String(event.number)
    if (e === 'github.event.action') return event.action
    const m = /^steps\.([a-z_]+)\.outputs\.([a-z_]+)$/.exec(e)
    if (m) return outputs[m[1]]?.[m[2]] ?? ''
    throw new Error(`unknown expression ${e}`)
  })
  const results: Array<{ step: string; code: number | null; stdout: string; stderr: string }> = []
  for (const [i, step] of j.steps.entries()) {
    if (!step.run) continue
    const outFile = join(cwd, `.gh-output-${job}-${i}`)
    writeFileSync(outFile, '')
    const env: Record<string, string> = { ...base, GITHUB_OUTPUT: outFile }
    for (const [k, v] of Object.entries({ ...wf.env, ...step.env })) env[k] = expr(String(v))
    // Not spawnSync: the fake API answers from this very process.
    const r = await bash(expr(step.run), cwd, env)
    results.push({ step: step.name ?? step.run, code: r.status, stdout: r.stdout, stderr: r.stderr })
    const leaked = leakedSecret(withoutMasks(r.stdout) + withoutMasks(r.stderr))
    if (leaked) throw new Error(`a secret appears in the log of step "${step.name ?? step.run}"`)
    if (r.status !== 0) break
    if (step.id) {
      outputs[step.id] = Object.fromEntries(readFileSync(outFile, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    }
  }
  return results
}

describe("the README's GitHub Actions workflow", () => {
  it('opened -> synchronize (reset, migrate, seed, health, tests) -> closed (delete), against the fake', async () => {
    const wf = readmeWorkflow()
    const project = fake.addProject('todo')
    const main = project.branches[0]
    const bin = shims()
    const base = { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME ?? '/tmp', NEON_API_HOST: fake.url, NODE_EXTRA_CA_CERTS: c.caFile, NO_COLOR: '1' }
    const workspace = () => {
      const cwd = tempDir()
      cpSync(resolve(__dirname, '../migrations'), join(cwd, 'migrations'), { recursive: true })
      mkdirSync(join(cwd, '.github'))
      return cwd
    }
    const branch = () => project.branches.find((b) => b.name === 'preview/pr-42')

    const opened = await runJob(wf, 'preview', { action: 'opened', number: 42 }, base, workspace())
    expect(opened.map((s) => [s.step, s.code, s.stderr])).toEqual(opened.map((s) => [s.step, 0, expect.anything()]))
    expect(opened.map((s) => s.step)).toEqual(['npm ci', "Preview branch with main's current data", 'npx todo-db migrate up', 'npx todo-db seed', 'npx todo-db health --timeout 5s', 'Tests'])
    expect(opened[1].stderr).toMatch(/^::add-mask::/)
    const b = branch()!
    expect(Date.parse(b.expires_at!)).toBeGreaterThan(Date.now() + 6 * 86_400_000)
    expect(Number(psql('select count(*) from todos', b.pgDatabase))).toBeGreaterThan(0)
    expect(opened[5].stdout).toMatch(/applied|up to date|migrations/i)

    // A push: the branch is reset to main's data (main has no todos table), then migrated and seeded again.
    psql('create table from_main (x int)', main.pgDatabase)
    const pushed = await runJob(wf, 'preview', { action: 'synchronize', number: 42 }, base, workspace())
    expect(pushed.map((s) => s.code)).toEqual([0, 0, 0, 0, 0, 0])
    expect(branch()!.id).toBe(b.id)
    expect(psql("select count(*) from pg_tables where tablename = 'from_main'", b.pgDatabase)).toBe('1')
    expect(fake.projects.filter((p) => p.name === 'todo')).toHaveLength(1)

    expect(await runJob(wf, 'cleanup', { action: 'synchronize', number: 42 }, base, workspace())).toEqual([])
    const closed = await runJob(wf, 'cleanup', { action: 'closed', number: 42 }, base, workspace())
    expect(closed.map((s) => s.code)).toEqual([0, 0])
    expect(branch()).toBeUndefined()
    // Closed twice (a re-run): still 0.
    const again = await runJob(wf, 'cleanup', { action: 'closed', number: 42 }, base, workspace())
    expect(again.map((s) => s.code)).toEqual([0, 0])
  })
})
