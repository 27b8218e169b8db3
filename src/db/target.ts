// Which database a command talks to: --database-url, else DATABASE_URL (the environment, then .env).
import { badInput, registerSecret } from '../errors.js'
import { neonDirectUrl, parseDatabaseUrl, type DbTarget } from './url.js'

export interface UrlSources {
  /** --database-url */
  flag?: string
  env: NodeJS.ProcessEnv
}

/**
 * The database to talk to. `session: true` asks for a direct (unpooled) connection, as DDL and
 * session-level advisory locks need: through a transaction-mode pooler they would break.
 */
export function resolveTarget(src: UrlSources, opts: { session?: boolean } = {}): DbTarget {
  // A flag given with nothing in it ("$UNSET_VAR") is a mistake, never a reason to fall back on
  // DATABASE_URL: that could be another database (seed --reset would empty it).
  const fromFlag = src.flag !== undefined
  if (fromFlag && src.flag!.trim() === '') {
    throw badInput('--database-url is empty', 'give it a postgres:// URL, or leave the flag out to use DATABASE_URL', 'EMPTY_VALUE')
  }
  const raw = fromFlag ? src.flag! : src.env.DATABASE_URL
  if (raw === undefined || raw.trim() === '') {
    throw badInput(
      `no database URL: DATABASE_URL is ${raw === undefined ? 'not set' : 'empty'}`,
      'set DATABASE_URL, put it in .env, or pass --database-url (todo-db provision --local makes one)',
      'NO_DATABASE_URL',
    )
  }
  registerSecret(src.env.PGPASSWORD)
  const target = parseDatabaseUrl(raw, fromFlag ? '--database-url' : 'DATABASE_URL')
  if (!opts.session || !target.pooled) return target

  const unpooled = src.env.DATABASE_URL_UNPOOLED
  if (unpooled && unpooled.trim() !== '') {
    const direct = parseDatabaseUrl(unpooled, 'DATABASE_URL_UNPOOLED')
    if (direct.pooled) {
      throw badInput('DATABASE_URL_UNPOOLED points at a pooler too', 'set it to the direct (unpooled) URL')
    }
    direct.notes.push('the URL is pooled: using DATABASE_URL_UNPOOLED for a direct session')
    return direct
  }
  if (target.neonPooler) {
    const direct = parseDatabaseUrl(neonDirectUrl(raw), fromFlag ? '--database-url' : 'DATABASE_URL')
    direct.notes.push(`the URL is Neon's pooler: using the direct host ${direct.host} for a session`)
    return direct
  }
  throw badInput(
    'the database URL goes through a transaction-mode pooler, and this command needs a direct session: set DATABASE_URL_UNPOOLED to the direct URL',
    'DDL and advisory locks do not survive transaction pooling',
    'POOLED_URL',
  )
}

