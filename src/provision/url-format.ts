// DATABASE_URL in the form the app's driver takes as it is, so nobody edits what provision wrote.
// Every form is one todo-db reads back too (src/db/url.ts).
import { badInput } from '../errors.js'

/**
 * - libpq / psycopg: the URL as the provider gives it (libpq, psql, psycopg 3, Prisma's sslmode).
 * - sqlalchemy+psycopg: SQLAlchemy's scheme for psycopg 3, the libpq query as it is.
 * - sqlalchemy+asyncpg: SQLAlchemy hands query parameters to asyncpg.connect() as keyword
 *   arguments, and asyncpg takes `ssl`, not `sslmode` or `channel_binding`.
 * - asyncpg: asyncpg.connect(dsn) reads sslmode, but sends channel_binding to the server as a
 *   setting, which it refuses.
 * - node-postgres: pg reads sslmode, treats require as verify-full (with a warning), and ignores
 *   channel_binding.
 */
export const URL_FORMATS = ['libpq', 'psycopg', 'sqlalchemy+psycopg', 'sqlalchemy+asyncpg', 'asyncpg', 'node-postgres'] as const
export type UrlFormat = (typeof URL_FORMATS)[number]

export function parseUrlFormat(value: string, source: string): UrlFormat {
  const v = value.trim().toLowerCase()
  if (!(URL_FORMATS as readonly string[]).includes(v)) {
    throw badInput(`${source} "${value}" is not a driver todo-db knows`, `use one of ${URL_FORMATS.join(', ')}`, 'USAGE')
  }
  return v as UrlFormat
}

const SCHEME = /^postgres(?:ql)?(?:\+[a-z0-9_]+)?:\/\//i

/**
 * Drivers without channel binding get the protection it gives another way, as todo-db does itself:
 * channel_binding=require becomes a verified certificate and host name (verify-full). Never dropped
 * silently: the URL says what the driver will do.
 */
function sslWithoutChannelBinding(q: URLSearchParams): string | undefined {
  const sslmode = q.get('sslmode') ?? undefined
  const bound = q.get('channel_binding') === 'require'
  q.delete('channel_binding')
  q.delete('sslmode')
  if (bound && (sslmode === undefined || sslmode === 'require' || sslmode === 'prefer' || sslmode === 'allow')) return 'verify-full'
  return sslmode
}

/** `url` (postgres:// or postgresql://, as provision makes them) in the form `format` names. */
export function formatDatabaseUrl(url: string, format: UrlFormat): string {
  if (format === 'libpq' || format === 'psycopg') return url
  const scheme = SCHEME.exec(url)
  if (!scheme) return url
  const rest = url.slice(scheme[0].length)
  if (format === 'sqlalchemy+psycopg') return `postgresql+psycopg://${rest}`

  // The query alone is rewritten: user, password and host stay byte for byte as they were.
  const cut = rest.indexOf('?')
  const head = cut < 0 ? rest : rest.slice(0, cut)
  const q = new URLSearchParams(cut < 0 ? '' : rest.slice(cut + 1))
  let sslmode = sslWithoutChannelBinding(q)
  if (format === 'node-postgres' && (sslmode === 'require' || sslmode === 'prefer' || sslmode === 'verify-ca')) {
    // What pg does with these anyway; said in the URL, pg prints no deprecation warning.
    sslmode = 'verify-full'
  }
  if (sslmode !== undefined) q.set(format === 'sqlalchemy+asyncpg' ? 'ssl' : 'sslmode', sslmode)
  const query = q.toString()
  const prefix = format === 'sqlalchemy+asyncpg' ? 'postgresql+asyncpg://' : 'postgresql://'
  return `${prefix}${head}${query ? `?${query}` : ''}`
}
