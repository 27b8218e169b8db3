// Waiting for a server that is down (issue 12, item 1): migrate and seed take --timeout like
// health, --verbose logs each retry, a terminal shows what is awaited, and the stopped local
// server of `provision --local` is named with how to start it.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { urlAtPort } from './helpers/db.js'
import { freePort } from './helpers/cluster.js'
import { BIN, leakedSecret, runCli, tempDir } from './helpers/cli.js'
import { MIGRATIONS } from './helpers/migrate.js'

const COMMANDS: [string, string[]][] = [
  ['migrate status', ['migrate', 'status', '--migrations-dir', MIGRATIONS]],
  ['migrate up', ['migrate', 'up', '--migrations-dir', MIGRATIONS]],
  ['seed', ['seed']],
]

describe('--timeout on migrate and seed', () => {
  for (const [name, args] of COMMANDS) {
    // 3 s: room for several retries (100, 200, 400 ms...) even when a loaded machine is slow to start the CLI.
    it(`${name} --timeout 3s gives up on a refused port with exit 2; --verbose logs each retry`, async () => {
      const port = await freePort()
      const r = await runCli([...args, '--timeout', '3s', '--verbose'], { env: { DATABASE_URL: urlAtPort(port) } })
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toMatch(/^error: no answer from 127\.0\.0\.1:\d+: refused the connection/m)
      expect(r.stderr.match(/^attempt \d+: .*refused the connection; retrying in \d+ ms$/gm)?.length ?? 0).toBeGreaterThan(1)
    })

    it(`${name} --timeout soon is bad input naming the flag`, async () => {
      const r = await runCli([...args, '--timeout', 'soon'], { env: { DATABASE_URL: urlAtPort(await freePort()) } })
      expect(r.code).toBe(3)
      expect(r.stderr).toMatch(/--timeout: "soon" is not a duration/)
    })
  }
})

describe('on a terminal', () => {
  it('a spinner says what it waits for while retrying', async () => {
    const port = await freePort()
    const command = [process.execPath, BIN, 'migrate', 'status', '--migrations-dir', MIGRATIONS]
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: urlAtPort(port), TODO_DB_CONNECT_TIMEOUT: '2s', TERM: 'xterm-256color' }
    delete env.CI
    const screen = await new Promise<string>((resolve) =>
      execFile('script', ['-qec', `stty cols 120 rows 40; ${command}`, '/dev/null'], { env, timeout: 60_000 }, (_e, out) => resolve(String(out))))
    expect(leakedSecret(screen)).toBeUndefined()
    expect(screen).toContain(`connecting to 127.0.0.1:${port}, retrying: refused`)
  })
})

describe('the stopped local server of provision --local', () => {
  const cwd = tempDir()
  afterAll(async () => {
    if (existsSync(join(cwd, '.todo-db'))) await runCli(['provision', '--local', '--destroy', '--yes'], { cwd })
  })

  it('migrate and seed say it is not running and how to start it', async () => {
    const made = await runCli(['provision', '--local'], { cwd })
    expect(made.code, made.stderr).toBe(0)
    const stopped = await runCli(['provision', '--local', '--stop'], { cwd })
    expect(stopped.code, stopped.stderr).toBe(0)
    for (const args of [['migrate', 'status', '--migrations-dir', MIGRATIONS], ['seed']]) {
      const r = await runCli(args, { cwd, env: { TODO_DB_CONNECT_TIMEOUT: '1s' } })
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toMatch(/refused the connection: the local server of todo-db provision --local is not running \(start it with todo-db provision --local\)/)
    }
  })
})
