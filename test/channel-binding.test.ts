// channel_binding=require, as every Neon URL carries it, against the suite's cluster: ssl=on with
// scram-sha-256 (so the server offers SCRAM-SHA-256-PLUS) and a certificate from the test's own CA,
// which does not verify unless that CA is given. libpq would connect here with channel binding and
// no certificate check; todo-db, whose driver has no SCRAM-PLUS, verifies certificate and host name
// instead (see url.ts and the README's "Connection strings").
import { describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli.js'
import { cluster } from './helpers/db.js'

const c = cluster()
const url = (params: string, host = 'localhost') => `postgresql://postgres:${encodeURIComponent(c.password)}@${host}:${c.port}/postgres?${params}`
const health = (databaseUrl: string, env: Record<string, string> = {}) => runCli(['health', '--json'], { env: { DATABASE_URL: databaseUrl, ...env } })

describe('channel_binding=require', () => {
  it('refuses a certificate that does not verify, with a hint that is true for this URL', async () => {
    const r = await health(url('sslmode=require&channel_binding=require'))
    expect(r.code).toBe(1)
    const err = JSON.parse(r.stdout).error
    expect(err.code).toBe('SSL_ERROR')
    expect(err.hint).toMatch(/channel_binding=require: .*verifies the certificate and host name instead/)
    expect(err.hint).toMatch(/sslrootcert=/)
    expect(err.hint).toMatch(/channel_binding=prefer/)
    // The URL has sslmode=require already: saying "use sslmode=require" would send the user in a circle.
    expect(err.hint).not.toMatch(/use sslmode=require/)
  })

  it('connects when the certificate verifies (sslrootcert, or a trusted CA)', async () => {
    const withCa = await health(url(`sslmode=require&channel_binding=require&sslrootcert=${encodeURIComponent(c.caFile)}`))
    expect(withCa.code, withCa.stderr).toBe(0)
    expect(JSON.parse(withCa.stdout)).toMatchObject({ ok: true, ssl: true })
    const trusted = await health(url('sslmode=require&channel_binding=require'), { NODE_EXTRA_CA_CERTS: c.caFile })
    expect(trusted.code, trusted.stderr).toBe(0)
  })

  it('channel_binding=prefer keeps libpq meaning: sslmode alone decides, an unverified certificate is accepted', async () => {
    const r = await health(url('sslmode=require&channel_binding=prefer'))
    expect(r.code, r.stderr).toBe(0)
  })
})
