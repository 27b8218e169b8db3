// provision neon delete-branch and provision local destroy (and their old spellings) ask first: on a pseudo-terminal they
// name what goes and wait for y/N; without one they need --yes (exit 3 otherwise, nothing deleted);
// --dry-run lists and deletes nothing.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, tempDir, type CliOptions } from './helpers/cli.js'
import { cluster } from './helpers/db.js'
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
