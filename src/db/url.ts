// Parses, validates and normalises connection strings. Knows nothing of sockets.
import { isIP } from 'node:net'
import { badInput, maskUrl, registerSecret } from '../errors.js'

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const
export type SslMode = (typeof SSL_MODES)[number]
export const CHANNEL_BINDINGS = ['disable', 'prefer', 'require'] as const
export type ChannelBinding = (typeof CHANNEL_BINDINGS)[number]

export interface DbTarget {
  /** The URL for display: password masked. */
  masked: string
  host: string
  port: number
  database: string
  user: string
  password?: string
  sslmode: SslMode
  /** True when the URL itself chose the SSL mode (sslmode, ssl). */
  sslFromUrl: boolean
  channelBinding?: ChannelBinding
  sslrootcert?: string
  sslcert?: string
  sslkey?: string
  /** Behind a transaction-mode pooler (Neon's -pooler host, or pgbouncer=true). */
  pooled: boolean
  /** Neon's pooler host: the direct host is the same name without -pooler. */
  neonPooler: boolean
  /** localhost, 127.0.0.0/8, ::1 or a Unix socket. */
  local: boolean
  /** Startup parameters for the server (application_name, options, ...). */
  params: Record<string, string>
  /** Things worth telling the user with --verbose: what we changed and why. */
  notes: string[]
}

const SCHEMES = new Set(['postgres:', 'postgresql:'])
// Python backends of the app write SQLAlchemy URLs; the driver part means nothing to us.
const SQLALCHEMY_SCHEME = /^(postgres(?:ql)?)\+([a-z0-9_]+):\/\//i

// libpq parameters we handle ourselves; anything else goes to the server as a startup setting.
const CLIENT_PARAMS = new Set([
  'sslmode', 'ssl', 'channel_binding', 'sslrootcert', 'sslcert', 'sslkey', 'pgbouncer',
  'connect_timeout', 'host', 'port', 'user', 'password', 'dbname', 'target_session_attrs',
  'sslnegotiation', 'prepared_statement_cache_size', 'statement_cache_size',
])

export function isLocalHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h.startsWith('/')) return true
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1'
  return false
}

/**
 * Parses a connection string. `source` names where it came from (DATABASE_URL, --database-url)
 * so that the error message can say what to fix.
 */
export function parseDatabaseUrl(input: string, source = 'DATABASE_URL'): DbTarget {
  const raw = input.trim()
  const notes: string[] = []
  if (!raw) throw badInput(`${source} is empty`, 'set it to postgres://user:password@host:5432/database')

  let text = raw
  const alchemy = SQLALCHEMY_SCHEME.exec(text)
  if (alchemy) {
    text = `${alchemy[1]}://${text.slice(alchemy[0].length)}`
    notes.push(`the SQLAlchemy driver "+${alchemy[2]}" in the URL scheme is ignored: todo-db uses its own driver`)
  }

  // Make sure the password is masked whatever goes wrong next, even in a URL too broken to parse.
  const unencoded = maskLikelyPassword(text)
  const bad = (what: string, hint?: string) =>
    badInput(`${source} is not a valid PostgreSQL URL: ${what} (${maskUrl(raw) || 'empty'})`,
      unencoded ? ENCODE_HINT : hint)

  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)
  if (scheme && !SCHEMES.has(scheme[1].toLowerCase() + ':')) {
    throw bad(`the scheme "${scheme[1]}" is not postgres:// or postgresql://`)
  }
  // WHATWG URL rejects a port over 65535 without saying why: check it first.
  const portInAuthority = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#@]*):([^/?#@]*)(?=[/?#]|$)/i.exec(text)
  if (portInAuthority && portInAuthority[1] !== '') {
    const p = portInAuthority[1]
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) {
      // "user:pa/ss@host" reads as port "pa": quoting it would show a piece of the password.
      throw bad(unencoded ? 'the part before "@" cannot be read as user:password' : `the port "${p}" is not a number from 1 to 65535`)
    }
  }

  let url: URL
  try {
    url = new URL(text)
  } catch {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
      throw bad('it does not start with postgres:// or postgresql://')
    }
    throw bad('it cannot be parsed', unencoded ? ENCODE_HINT : 'check for a stray character; a password with @ : / # ? must be percent-encoded')
  }
  if (!SCHEMES.has(url.protocol)) {
    if (!text.includes('://')) throw bad('it does not start with postgres:// or postgresql://')
    throw bad(`the scheme "${url.protocol.replace(/:$/, '')}" is not postgres:// or postgresql://`)
  }

  const q = url.searchParams
  for (const key of new Set(q.keys())) {
    if (q.getAll(key).length > 1) throw bad(`the parameter "${key}" is given twice`)
  }

  const password = url.password ? safeDecode(url.password) : q.get('password') ?? undefined
  registerSecret(password)

  let host = url.hostname ? safeDecode(url.hostname) : ''
  if (!host && q.get('host')) host = q.get('host')!
  if (!host) throw bad('it names no host', 'write postgres://USER:PASSWORD@HOST:5432/DATABASE with a host')
  if (host.includes(',')) throw bad('several hosts are not supported', 'name one host')

  const portText = url.port || q.get('port') || '5432'
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw bad(`the port "${portText}" is not a number from 1 to 65535`)

  const user = url.username ? safeDecode(url.username) : q.get('user') ?? ''
  if (!user) throw bad('it names no user', 'write postgres://USER:PASSWORD@HOST:5432/DATABASE with a user')
  const database = safeDecode(url.pathname.replace(/^\//, '')) || q.get('dbname') || user
  if (database.includes('/')) throw bad(`the database name "${database}" contains "/"`)

  const local = isLocalHost(host)

  // SSL: the URL decides; otherwise non-local hosts require it.
  let sslmode: SslMode
  let sslFromUrl = true
  const sslmodeParam = q.get('sslmode')
  const sslParam = q.get('ssl') // asyncpg / node-postgres style: ssl=require, ssl=true
  if (sslmodeParam !== null) {
    if (!(SSL_MODES as readonly string[]).includes(sslmodeParam)) {
      throw bad(`sslmode "${sslmodeParam}" is unknown`, `use one of ${SSL_MODES.join(', ')}`)
    }
    sslmode = sslmodeParam as SslMode
  } else if (sslParam !== null) {
    const map: Record<string, SslMode> = { true: 'require', '1': 'require', false: 'disable', '0': 'disable' }
    const mode = map[sslParam] ?? sslParam
    if (!(SSL_MODES as readonly string[]).includes(mode)) throw bad(`ssl "${sslParam}" is unknown`)
    sslmode = mode as SslMode
  } else {
    sslFromUrl = false
    sslmode = local ? 'prefer' : 'require'
  }

  const sslrootcert = q.get('sslrootcert') ?? undefined
  // libpq: sslrootcert=system means verify against the system's CAs, with host name checks.
  if (sslrootcert === 'system' && sslmode !== 'verify-full') {
    if (sslmode === 'disable') throw bad('sslrootcert=system needs SSL but sslmode is disable')
    sslmode = 'verify-full'
    notes.push('sslrootcert=system: the server certificate is verified (verify-full)')
  }

  const cb = q.get('channel_binding')
  let channelBinding: ChannelBinding | undefined
  if (cb !== null) {
    if (!(CHANNEL_BINDINGS as readonly string[]).includes(cb)) {
      throw bad(`channel_binding "${cb}" is unknown`, `use one of ${CHANNEL_BINDINGS.join(', ')}`)
    }
    channelBinding = cb as ChannelBinding
    if (channelBinding === 'require') {
      if (sslmode === 'disable' || sslmode === 'allow' || sslmode === 'prefer') {
        throw bad(`channel_binding=require needs SSL, but sslmode is ${sslmode}`, 'use sslmode=require or stronger')
      }
      // libpq: require refuses a login that is not SCRAM-SHA-256-PLUS, which binds it to the TLS
      // channel so that a man in the middle cannot relay it, with no certificate check. postgres.js
      // speaks SCRAM-SHA-256 but not the PLUS variant, so we cannot do that; verifying the server's
      // certificate AND host name stops the same attack, so that is what require means here (Neon's
      // certificates verify against the system CAs).
      if (sslmode === 'require') {
        sslmode = 'verify-full'
        notes.push('channel_binding=require: the server certificate and host name are verified instead (sslmode verify-full)')
      }
    }
  }

  const pgbouncer = q.get('pgbouncer')
  const neonPooler = /^ep-[a-z0-9-]+-pooler\./i.test(host)
  const pooled = neonPooler || pgbouncer === 'true' || pgbouncer === '1'

  const params: Record<string, string> = {}
  for (const [k, v] of q) if (!CLIENT_PARAMS.has(k)) params[k] = v

  return {
    masked: maskUrl(raw),
    host,
    port,
    database,
    user,
    password,
    sslmode,
    sslFromUrl,
    channelBinding,
    sslrootcert: sslrootcert === 'system' ? undefined : sslrootcert,
    sslcert: q.get('sslcert') ?? undefined,
    sslkey: q.get('sslkey') ?? undefined,
    pooled,
    neonPooler,
    local,
    params,
    notes,
  }
}

/** Neon documents the direct host as the pooler host without "-pooler". */
export function neonDirectUrl(rawPooledUrl: string): string {
  return rawPooledUrl.replace(/(@ep-[a-z0-9-]+?)-pooler\./i, '$1.')
}

const ENCODE_HINT = 'percent-encode a password that contains / ? # @ or :, e.g. with encodeURIComponent'

/**
 * Registers as a secret whatever in `text` is likely meant as the password, also when the URL is
 * malformed ("postgres//u:pw@h", "postgres://u:pa/ss@h", "u:pw@h"), so no message can show it.
 * Returns true when the part before "@" holds characters that break it (an unencoded / ? #).
 */
function maskLikelyPassword(text: string): boolean {
  const wellFormed = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:([^@/?#]*)@/i.exec(text)
  if (wellFormed) {
    registerSecret(safeDecode(wellFormed[1]))
    return false
  }
  const at = text.indexOf('@')
  if (at < 0) return false
  // What comes before the first "@", without the scheme however it was mistyped ("u:pw@h" has none).
  const noScheme = (t: string) => t.replace(/^(?:[a-z][a-z0-9+.-]*:\/+|[a-z][a-z0-9+.-]*\/\/|postgres(?:ql)?:)/i, '')
  const userinfo = noScheme(text.slice(0, at))
  const sep = userinfo.search(/[:/?#]/)
  if (sep < 0) return false
  registerSecret(safeDecode(userinfo.slice(sep + 1)))
  // Everything up to the last "@" too: the password may hold an "@" as well.
  const last = text.lastIndexOf('@')
  if (last > at) registerSecret(safeDecode(noScheme(text.slice(0, last)).slice(sep + 1)))
  return /[/?#]/.test(userinfo)
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
