import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runCli, secrets, tempDir } from './helpers/cli.js'

describe('the todo-db command line', () => {
  it('--help lists every command with its purpose, examples and exit codes', async () => {
    const r = await runCli(['--help'])
    expect(r.code).toBe(0)
    for (const cmd of ['init', 'health', 'migrate', 'seed', 'provision']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b.* \\w+`, 'm'))
    expect(r.stdout).toMatch(/Examples:/)
    expect(r.stdout).toMatch(/Exit codes:/)
  })

  it('--version prints the version', async () => {
    const r = await runCli(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('an unknown command is one clear line and exit 3', async () => {
    const r = await runCli(['helth'])
    expect(r.code).toBe(3)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/unknown command 'helth'.*health/)
    expect(r.stdout).toBe('')
  })

  it('an unknown flag is one clear line and exit 3', async () => {
    const r = await runCli(['health', '--timout', '5s'])
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/unknown option '--timout'/)
    expect(r.stderr).toMatch(/todo-db --help/)
  })

  it('no command (or a group without its subcommand) shows the help on stderr, exit 3', async () => {
    const bare = await runCli([])
    expect(bare.code).toBe(3)
    expect(bare.stderr).toMatch(/Usage: todo-db/)
    const group = await runCli(['migrate'])
    expect(group.code).toBe(3)
    expect(group.stderr).toMatch(/Usage: todo-db migrate[\s\S]*up[\s\S]*down[\s\S]*status[\s\S]*create/)
  })

  it('a missing flag value is exit 3', async () => {
    const r = await runCli(['health', '--timeout'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/argument missing/)
  })
})

describe('the last line of defence (main)', () => {
  // What a driver callback throwing after its socket died looks like from the outside: an error
  // nobody awaits. Injected with a preload module, so the bin runs exactly as shipped.
  const crash = (how: 'throw' | 'reject', extra: string[] = []) => {
    const dir = tempDir()
    const preload = join(dir, 'crash.mjs')
    writeFileSync(preload, `setTimeout(() => {
  const e = new Error('socket callback failed for postgres://app:' + process.env.CRASH_SECRET + '@db.example/todo')
  ${how === 'throw' ? 'throw e' : 'Promise.reject(e)'}
}, 300)\n`)
    secrets.add(CRASH_SECRET)
    // Port 1 refuses: health keeps retrying until its timeout, long after the crash.
    return runCli(['health', '--timeout', '20s', ...extra], {
      env: { NODE_OPTIONS: `--import=${pathToFileURL(preload).href}`, CRASH_SECRET, DATABASE_URL: 'postgres://u@127.0.0.1:1/db' },
    })
  }
  const CRASH_SECRET = 'crash-Secret-' + process.pid

  for (const how of ['throw', 'reject'] as const) {
    it(`an uncaught ${how === 'throw' ? 'exception' : 'rejection'} is one redacted line and exit 1, at once`, async () => {
      const r = await crash(how)
      expect(r.code).toBe(1)
      expect(r.stderr.trim().split('\n')).toEqual(['error: socket callback failed for postgres://app:****@db.example/todo'])
      expect(r.ms).toBeLessThan(10_000)
    })
  }

  it('with --json, the crash is one failure document on stdout too', async () => {
    const r = await crash('throw', ['--json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'socket callback failed for postgres://app:****@db.example/todo' } })
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})

describe('usage errors with --json', () => {
  const cases = [
    ['helth', '--json'],
    ['health', '--timout', '5s', '--json'],
    ['health', '--json', '--timeout'],
    ['migrate', '--json'],
    ['--json', 'migrate', 'up', '--to'],
  ]
  for (const args of cases) {
    it(`todo-db ${args.join(' ')}: one JSON document on stdout, the error on stderr, exit 3`, async () => {
      const r = await runCli(args)
      expect(r.code).toBe(3)
      const doc = JSON.parse(r.stdout)
      expect(doc).toMatchObject({ ok: false, error: { code: 'USAGE', hint: 'see todo-db --help' } })
      expect(doc.error.message).toMatch(/unknown|missing/)
      expect(r.stderr).toMatch(/unknown|missing|Usage:/)
    })
  }
})
