// SIGINT / SIGTERM while a command is still connecting (issue 9, item 7): against a host that
// accepts TCP and never answers, or a port nobody listens on, every command must stop within a
// second with its one-line message and 130 / 143, not at the 10 s backstop, and not silently.
import { describe, expect, it } from 'vitest'
import { cluster, urlAtPort } from './helpers/db.js'
import { freePort } from './helpers/cluster.js'
import { startCli } from './helpers/cli.js'
import { startProxy } from './helpers/proxy.js'
import { MIGRATIONS } from './helpers/migrate.js'
import { waitFor } from './helpers/wait.js'

const c = cluster()
const COMMANDS: [string, string[]][] = [
  ['health', ['health', '--timeout', '1m']],
  ['migrate up', ['migrate', 'up', '--migrations-dir', MIGRATIONS]],
  ['migrate status', ['migrate', 'status', '--migrations-dir', MIGRATIONS]],
  ['migrate down --dry-run', ['migrate', 'down', '--dry-run', '--migrations-dir', MIGRATIONS]],
]
// seed answered a signal while connecting already (test/seed.test.ts)
const SIGNALS = [['SIGINT', 130], ['SIGTERM', 143]] as const

function start(args: string[], url: string, env: Record<string, string> = {}) {
  // A whole minute to connect: only the signal can end these runs early.
  return startCli(args, { env: { DATABASE_URL: url, TODO_DB_CONNECT_TIMEOUT: '1m', ...env } })
}

describe('a signal while connecting to a host that never answers', () => {
  for (const [name, args] of COMMANDS) {
    it.each(SIGNALS)(`${name}: %s exits %i with its message`, async (signal, code) => {
      const hole = await startProxy(c, 'blackhole')
      try {
        const run = start(args, urlAtPort(hole.port, 'postgres'))
        await waitFor(() => hole.accepted > 0, { what: 'the CLI to open a connection' }) // it is connecting now
        const signalled = Date.now()
        run.kill(signal)
        const r = await run.result
        expect(r.code, r.stderr).toBe(code)
        expect(r.stderr).toMatch(/^error: interrupted while connecting to 127\.0\.0\.1:\d+: nothing was changed$/m)
        expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1)
        expect(Date.now() - signalled).toBeLessThan(5000) // not the 10 s backstop
      } finally {
        await hole.close()
      }
    })
  }
})

describe('a signal while retrying a port nobody listens on', () => {
  for (const [name, args] of COMMANDS) {
    it(`${name}: SIGINT between two attempts exits 130 with its message`, async () => {
      const port = await freePort()
      const run = start([...args, '--verbose'], urlAtPort(port, 'postgres'))
      await waitFor(() => /retrying in/.test(run.stderr()), { what: 'a "retrying in" line on stderr' }) // refused once, waiting to retry
      run.kill('SIGINT')
      const r = await run.result
      expect(r.code, r.stderr).toBe(130)
      expect(r.stderr).toMatch(/^error: interrupted while connecting to 127\.0\.0\.1:\d+: nothing was changed$/m)
    })
  }
})
