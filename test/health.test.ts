import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startCluster, type Cluster } from './helpers/cluster.js'
import { cluster, dbUrl, urlAtPort } from './helpers/db.js'
import { runCli, secrets, tempDir } from './helpers/cli.js'
import { startProxy } from './helpers/proxy.js'

const c = cluster()

describe('todo-db health', () => {
  it('exits 0 and says so when the server accepts connections', async () => {
    const r = await runCli(['health', '--database-url', dbUrl('postgres')])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^accepting connections: 127\.0\.0\.1:\d+, PostgreSQL 15\.\d+/)
  })

  it('--json prints one document with status, latency, server, ssl and pooled', async () => {
    const r = await runCli(['health', '--json', '--database-url', dbUrl('postgres', 'sslmode=require')])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc).toMatchObject({ ok: true, status: 'accepting', ssl: true, pooled: false })
    expect(doc.server.version).toMatch(/^15\./)
    expect(typeof doc.latencyMs).toBe('number')
    expect(doc.error).toBeUndefined()
  })

  it('reads DATABASE_URL from the environment, then from .env, and the environment wins', async () => {
    const cwd = tempDir()
    writeFileSync(join(cwd, '.env'), `# local\nDATABASE_URL=${dbUrl('postgres')}\n`)
    const fromFile = await runCli(['health', '--json'], { cwd })
    expect(fromFile.code).toBe(0)
    const envWins = await runCli(['health', '--json'], { cwd, env: { DATABASE_URL: dbUrl('no_such_db_here') } })
    expect(envWins.code).toBe(1)
    expect(JSON.parse(envWins.stdout).error.code).toBe('DATABASE_NOT_FOUND')
    const flagWins = await runCli(['health', '--database-url', dbUrl('postgres')], { cwd, env: { DATABASE_URL: dbUrl('no_such_db_here') } })
    expect(flagWins.code).toBe(0)
  })

  it('exits 1 (rejecting) on a wrong password, without printing either password', async () => {
    const wrong = 'Wr0ng-pass-' + Date.now()
    secrets.add(wrong)
    const url = `postgres://postgres:${wrong}@127.0.0.1:${c.port}/postgres?sslmode=disable`
    const r = await runCli(['health', '--json', '--database-url', url])
    expect(r.code).toBe(1)
    const doc = JSON.parse(r.stdout)
    expect(doc).toMatchObject({ ok: false, status: 'rejecting', error: { code: 'AUTH_FAILED', sqlState: '28P01' } })
    const human = await runCli(['health', '--database-url', url])
    expect(human.code).toBe(1)
    expect(human.stderr).toMatch(/password authentication failed/)
    expect(human.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('exits 1 for a database or role that does not exist, at once (no retries)', async () => {
    const r = await runCli(['health', '--timeout', '20s', '--database-url', dbUrl('nope_db')])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/database "nope_db" does not exist/)
    expect(r.ms).toBeLessThan(10_000)
  })

  it('exits 2 at the timeout for a host that accepts TCP but never answers', async () => {
    const hole = await startProxy(c, 'blackhole')
    try {
      const url = urlAtPort(hole.port)
      const r = await runCli(['health', '--timeout', '1s', '--json', '--database-url', url])
      expect(r.code).toBe(2)
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, status: 'no_response' })
      expect(hole.accepted).toBeGreaterThan(0)
      // the deadline is hard: well before the driver's own 30 s connect timeout
      expect(r.ms).toBeLessThan(8_000)
    } finally {
      await hole.close()
    }
  })

  it('exits 2 when nothing listens, after retrying until the timeout', async () => {
    const gone = await startProxy(c, 'forward', { listenLater: true })
    const url = urlAtPort(gone.port)
    const r = await runCli(['health', '--timeout', '800ms', '--database-url', url])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/no answer from 127\.0\.0\.1:\d+/)
  })

  it('is healthy when the server refuses for a while and then accepts within the timeout', async () => {
    const waking = await startProxy(c, 'forward', { listenLater: true })
    try {
      const url = urlAtPort(waking.port)
      let stderr = ''
      const pending = runCli(['health', '--timeout', '15s', '--verbose', '--database-url', url], { onSpawn: (c) => c.stderr!.on('data', (d) => (stderr += d)) })
      // Refused at least once (a timer here raced a slow start of the CLI on a loaded machine).
      await vi.waitFor(() => expect(stderr).toMatch(/retrying/), { timeout: 14_000, interval: 20 })
      await waking.listen()
      const r = await pending
      expect(r.code).toBe(0)
      expect(r.stderr).toMatch(/retrying/)
      expect(waking.accepted).toBeGreaterThan(0)
    } finally {
      await waking.close()
    }
  })

  it('retries a connection that is dropped while the server wakes', async () => {
    const flaky = await startProxy(c, 'drop')
    try {
      const url = urlAtPort(flaky.port)
      const pending = runCli(['health', '--timeout', '15s', '--database-url', url])
      // Dropped at least once before the server "wakes".
      await vi.waitFor(() => expect(flaky.accepted).toBeGreaterThan(0), { timeout: 14_000, interval: 20 })
      flaky.mode = 'forward'
      expect((await pending).code).toBe(0)
      expect(flaky.accepted).toBeGreaterThan(1)
    } finally {
      await flaky.close()
    }
  })

  it('retries while the server is starting up (57P03), and reports rejecting if it never finishes', async () => {
    const starting = await startProxy(c, 'starting')
    try {
      const url = urlAtPort(starting.port)
      const stuck = await runCli(['health', '--timeout', '1s', '--json', '--database-url', url])
      expect(stuck.code).toBe(1)
      expect(JSON.parse(stuck.stdout)).toMatchObject({ status: 'rejecting', error: { code: 'SERVER_STARTING', sqlState: '57P03' } })
      const before = starting.accepted
      const pending = runCli(['health', '--timeout', '15s', '--database-url', url])
      // Answered 57P03 at least once before the server finishes starting.
      await vi.waitFor(() => expect(starting.accepted).toBeGreaterThan(before), { timeout: 14_000, interval: 20 })
      starting.mode = 'forward'
      expect((await pending).code).toBe(0)
    } finally {
      await starting.close()
    }
  })

  it('exits 3 with a clear line when no URL is set anywhere', async () => {
    const r = await runCli(['health'], { cwd: tempDir() })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/DATABASE_URL/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
  })

  it('exits 3 for a malformed URL, naming the problem and masking the password', async () => {
    const pw = 'MalformedSecret-' + Date.now()
    secrets.add(pw)
    for (const [url, problem] of [
      [`mysql://u:${pw}@localhost/db`, /scheme "mysql"/],
      [`postgres://u:${pw}@localhost:99999/db`, /port "99999"/],
      [`postgres://u:${pw}@localhost/db?sslmode=sometimes`, /sslmode "sometimes"/],
      [`localhost:5432/db`, /postgres:\/\//],
    ] as const) {
      const r = await runCli(['health', '--json', '--database-url', url])
      expect(r.code, url).toBe(3)
      const doc = JSON.parse(r.stdout)
      expect(doc.status).toBe('no_attempt')
      expect(doc.error.message).toMatch(problem)
    }
    const human = await runCli(['health', '--database-url', `postgres://u:${pw}@localhost:0/db`])
    expect(human.code).toBe(3)
    expect(human.stderr).toMatch(/postgres:\/\/u:\*\*\*\*@localhost:0\/db/)
  })

  it('exits 3 for a bad --timeout', async () => {
    const r = await runCli(['health', '--timeout', 'soon', '--database-url', dbUrl('postgres')])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/--timeout: "soon" is not a duration/)
    // 0 would give up before trying; more than Node's timers hold would fire at once.
    const zero = await runCli(['health', '--timeout', '0', '--json', '--database-url', dbUrl('postgres')])
    expect(zero.code).toBe(3)
    expect(JSON.parse(zero.stdout).error.message).toMatch(/--timeout: 0 leaves no time/)
    const huge = await runCli(['health', '--timeout', '99999999s', '--database-url', dbUrl('postgres')])
    expect(huge.code).toBe(3)
    expect(huge.stderr.trim().split('\n')).toHaveLength(1)
    expect(huge.stderr).toMatch(/--timeout: "99999999s" is too long/)
  })

  it('verifies the certificate with verify-full, and fails clearly without the CA', async () => {
    const ok = await runCli(['health', '--json', '--database-url', dbUrl('postgres', `sslmode=verify-full&sslrootcert=${c.caFile}`)])
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout).ssl).toBe(true)
    const bad = await runCli(['health', '--database-url', dbUrl('postgres', 'sslmode=verify-full')])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/SSL/)
  })

  it('honours channel_binding=require (Neon URLs) by verifying the server certificate', async () => {
    const neonStyle = `postgres://postgres:${encodeURIComponent(c.password)}@localhost:${c.port}/postgres?sslmode=require&channel_binding=require`
    const trusted = await runCli(['health', '--json', '--database-url', neonStyle], { env: { NODE_EXTRA_CA_CERTS: c.caFile } })
    expect(trusted.code).toBe(0)
    expect(JSON.parse(trusted.stdout)).toMatchObject({ ok: true, ssl: true })
    // an unverifiable certificate is refused rather than silently dropping the protection asked for
    const untrusted = await runCli(['health', '--database-url', neonStyle])
    expect(untrusted.code).toBe(1)
    expect(untrusted.stderr).toMatch(/SSL/)
  })
})

describe('todo-db health against a server without SSL', () => {
  let plain: Cluster
  beforeAll(async () => {
    plain = await startCluster({ ssl: false })
  })
  afterAll(() => plain?.stop())

  it('exits 1 when the URL requires SSL and the server refuses it', async () => {
    secrets.add(plain.password)
    const r = await runCli(['health', '--timeout', '10s', '--database-url', plain.url('postgres', 'sslmode=require')])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/does not accept SSL/)
    expect(r.ms).toBeLessThan(8_000)
  })

  it('connects without SSL to a local server when the URL says nothing (prefer)', async () => {
    const r = await runCli(['health', '--json', '--database-url', plain.url('postgres', '')])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).ssl).toBe(false)
  })
})
