// provision neon delete-branch, provision neon --reset-from-parent and provision local destroy (and
// their old spellings) ask first: on a pseudo-terminal they name what goes and wait for y/N; without
// one they need --yes (exit 3 otherwise, nothing changed); --dry-run, where there is one, lists and
// changes nothing.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, tempDir, type CliOptions } from './helpers/cli.js'
import { cluster, psql } from './helpers/db.js'
import { useFakeNeon } from './helpers/fake-neon.js'
import { onTty } from './helpers/tty.js'

const c = cluster()
// URIs that reach the suite's cluster; every request and answer held to Neon's spec.
const fake = useFakeNeon()

const neonEnv = () => ({ NEON_API_KEY: fake.apiKey, NEON_API_HOST: fake.url, NODE_EXTRA_CA_CERTS: c.caFile })
const neon = (args: string[], opts: CliOptions = {}) => runCli(args, { ...opts, env: { ...neonEnv(), ...opts.env } })
const deletes = () => fake.requests.filter((r) => r.method === 'DELETE').length
const projectName = () => `todo-${Math.random().toString(36).slice(2, 8)}`

describe('provision neon delete-branch', () => {
  it('(as --delete-branch) without a terminal needs --yes: exit 3 in one line naming the branch and --yes; --dry-run lists; nothing is deleted', async () => {
    const p = fake.addProject(projectName(), { branches: ['dev-keep'] })
    const id = p.branches[1].id
    const before = deletes()
    const r = await neon(['provision', '--project', p.name, '--delete-branch', 'dev-keep'])
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(new RegExp(`provision neon delete-branch deletes branch dev-keep \\(${id}\\) of Neon project ${p.name}, with all its data: pass --yes`))
    const json = await neon(['provision', '--project', p.name, '--delete-branch', 'dev-keep', '--json'])
    expect(json.code).toBe(3)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'CONFIRMATION_REQUIRED' } })
    const dry = await neon(['provision', '--project', p.name, '--delete-branch', 'dev-keep', '--dry-run', '--json'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(JSON.parse(dry.stdout)).toMatchObject({ ok: true, dryRun: true, wouldDelete: { name: 'dev-keep', id } })
    expect(deletes()).toBe(before)
    expect(p.branches.map((b) => b.name)).toEqual(['main', 'dev-keep'])
  })

  it('on a terminal names the branch; "n" deletes nothing, "y" deletes it', async () => {
    const p = fake.addProject(projectName(), { branches: ['dev-ask'] })
    const args = ['provision', 'neon', 'delete-branch', 'dev-ask', '--project', p.name]
    const before = deletes()
    const no = await onTty(args, neonEnv(), 'n', tempDir())
    expect(no.asked).toBe(true)
    expect(no.screen).toMatch(/provision neon delete-branch deletes:\s+branch dev-ask \(br-\S+\) of Neon project/)
    expect(no.code).toBe(1)
    expect(deletes()).toBe(before)
    expect(p.branches.map((b) => b.name)).toEqual(['main', 'dev-ask'])

    const yes = await onTty(args, neonEnv(), 'y', tempDir())
    expect(yes.code, yes.screen).toBe(0)
    expect(yes.screen).toMatch(/deleted branch dev-ask/)
    expect(p.branches.map((b) => b.name)).toEqual(['main'])
  })
})

describe('provision neon --reset-from-parent', () => {
  const restores = () => fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/restore')).length
  const patches = () => fake.requests.filter((r) => r.method === 'PATCH').length
  /** A project whose branch dev-reset holds a row its parent main does not. */
  const withOwnData = () => {
    const p = fake.addProject(projectName(), { branches: ['dev-reset'] })
    const [main, dev] = p.branches
    psql('create table notes (body text)', main.pgDatabase)
    psql("create table notes (body text); insert into notes values ('only on dev')", dev.pgDatabase)
    return { p, dev }
  }
  const notes = (db: string) => psql("select coalesce(string_agg(body, ','), '') from notes", db)

  it('without a terminal needs --yes: exit 3 in one line naming the branch, before anything changes (the expiry too); --yes resets', async () => {
    const { p, dev } = withOwnData()
    const before = { restores: restores(), patches: patches() }
    const r = await neon(['provision', 'neon', '--project', p.name, '--branch', 'dev-reset', '--reset-from-parent', '--expires-in', '7d'], { cwd: tempDir() })
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(new RegExp(`provision neon --reset-from-parent discards the data of branch dev-reset \\(${dev.id}\\) of Neon project ${p.name} \\(it gets a copy of main's\\): pass --yes`))
    // The old spelling and --json: the same refusal, as a document.
    const json = await neon(['provision', '--project', p.name, '--branch', 'dev-reset', '--reset-from-parent', '--json'], { cwd: tempDir() })
    expect(json.code).toBe(3)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'CONFIRMATION_REQUIRED', destroys: [expect.stringContaining(dev.id)] } })
    expect({ restores: restores(), patches: patches() }).toEqual(before)
    expect(dev.expires_at).toBeUndefined()
    expect(notes(dev.pgDatabase)).toBe('only on dev')

    const yes = await neon(['provision', 'neon', '--project', p.name, '--branch', 'dev-reset', '--reset-from-parent', '--yes', '--json'], { cwd: tempDir() })
    expect(yes.code, yes.stderr).toBe(0)
    expect(JSON.parse(yes.stdout).branch).toMatchObject({ id: dev.id, reset: true })
    expect(restores()).toBe(before.restores + 1)
    expect(notes(dev.pgDatabase)).toBe('')
  })

  it('asks nothing for a branch this run creates: there is no data to lose', async () => {
    const p = fake.addProject(projectName())
    const r = await neon(['provision', 'neon', '--project', p.name, '--branch', 'dev-fresh', '--reset-from-parent'], { cwd: tempDir() })
    expect(r.code, r.stderr).toBe(0)
    expect(p.branches.map((b) => b.name)).toEqual(['main', 'dev-fresh'])
  })

  it('on a terminal names the branch; "n" resets nothing, "y" resets it', async () => {
    const { p, dev } = withOwnData()
    const args = ['provision', 'neon', '--project', p.name, '--branch', 'dev-reset', '--reset-from-parent']
    const before = restores()
    const no = await onTty(args, neonEnv(), 'n', tempDir())
    expect(no.asked).toBe(true)
    expect(no.screen).toMatch(new RegExp(`provision neon --reset-from-parent discards:\\s+the data of branch dev-reset \\(${dev.id}\\) of Neon project ${p.name}`))
    expect(no.code).toBe(1)
    expect(restores()).toBe(before)
    expect(notes(dev.pgDatabase)).toBe('only on dev')

    const yes = await onTty(args, neonEnv(), 'y', tempDir())
    expect(yes.code, yes.screen).toBe(0)
    expect(yes.screen).toMatch(/branch +dev-reset \(br-\S+\): found, reset to its parent's data/)
    expect(restores()).toBe(before + 1)
    expect(notes(dev.pgDatabase)).toBe('')
  })
})

describe('provision local destroy', () => {
  const cwd = tempDir('todo-db-destroy-')
  const data = join(cwd, '.todo-db', 'postgres')
  afterAll(async () => {
    if (existsSync(join(cwd, '.todo-db'))) await runCli(['provision', '--local', '--destroy', '--yes'], { cwd })
  })

  it('asks on a terminal, needs --yes without one (also as --local --destroy), and --dry-run lists: the data stays until "y"', async () => {
    expect((await runCli(['provision', 'local'], { cwd })).code).toBe(0)
    const r = await runCli(['provision', '--local', '--destroy'], { cwd })
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/provision local destroy deletes the local PostgreSQL in .*\.todo-db\/postgres, with all its data \(\d+\.\d MB\): pass --yes/)
    const dry = await runCli(['provision', 'local', 'destroy', '--dry-run'], { cwd })
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/would delete the local PostgreSQL in .*\(dry run: nothing was deleted\)/)
    expect(existsSync(join(data, 'PG_VERSION'))).toBe(true)
    expect((await runCli(['health'], { cwd })).code).toBe(0)

    const no = await onTty(['provision', 'local', 'destroy'], {}, 'n', cwd)
    expect(no.asked).toBe(true)
    expect(no.screen).toMatch(/provision local destroy deletes:\s+the local PostgreSQL in/)
    expect(no.code).toBe(1)
    expect((await runCli(['health'], { cwd })).code).toBe(0)

    const yes = await onTty(['provision', 'local', 'destroy'], {}, 'y', cwd)
    expect(yes.code, yes.screen).toBe(0)
    expect(existsSync(data)).toBe(false)
  })

  it('--dry-run and --yes go only with what deletes', async () => {
    for (const args of [['provision', '--local', '--dry-run'], ['provision', 'local', 'stop', '--yes']]) {
      const r = await runCli(args, { cwd: tempDir() })
      expect(r.code, args.join(' ')).toBe(3)
      expect(r.stderr).toMatch(/unknown option '--(dry-run|yes)'/)
    }
  })
})
