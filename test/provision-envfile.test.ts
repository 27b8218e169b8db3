import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import { describe, expect, it } from 'vitest'
import { formatValue, mergeEnvText, writeEnvFile } from '../src/provision/envfile.js'
import { ensureGitignored } from '../src/gitignore.js'
import { tempDir } from './helpers/cli.js'

// Neon's URL shape with a made-up password on a reserved (.example) domain.
const FAKE_PASSWORD = 'not-a-real-password'
const URL_A = `postgresql://neondb_owner:${FAKE_PASSWORD}@ep-a-pooler.us-east-2.aws.neon.example/neondb?sslmode=require&channel_binding=require`
const URL_B = `postgresql://neondb_owner:${FAKE_PASSWORD}@ep-a.us-east-2.aws.neon.example/neondb?sslmode=require&channel_binding=require`

describe('env file merge', () => {
  it('replaces only the keys given and keeps every other line, comment and blank line in place', () => {
    const before = '# app settings\nexport DATABASE_URL=old\n\nSESSION_SECRET="s3 cret" # inline\n# trailing comment\n'
    const { text, set } = mergeEnvText(before, { DATABASE_URL: URL_A, DATABASE_URL_UNPOOLED: URL_B })
    expect(text).toBe(`# app settings\nexport DATABASE_URL=${URL_A}\n\nSESSION_SECRET="s3 cret" # inline\n# trailing comment\nDATABASE_URL_UNPOOLED=${URL_B}\n`)
    expect(set).toEqual(['DATABASE_URL', 'DATABASE_URL_UNPOOLED'])
    expect(parseEnv(text)).toMatchObject({ DATABASE_URL: URL_A, DATABASE_URL_UNPOOLED: URL_B, SESSION_SECRET: 's3 cret' })
  })

  it('reports nothing set when the value is already there', () => {
    const { text, set } = mergeEnvText(`DATABASE_URL=${URL_A}\n`, { DATABASE_URL: URL_A })
    expect(text).toBe(`DATABASE_URL=${URL_A}\n`)
    expect(set).toEqual([])
  })

  it('removes a key, a duplicate and a quoted value spanning lines, and keeps CRLF endings', () => {
    const before = 'A=1\r\nDATABASE_URL="first\r\nsecond"\r\nB=2\r\nDATABASE_URL=dup\r\n'
    expect(mergeEnvText(before, { DATABASE_URL: undefined })).toEqual({ text: 'A=1\r\nB=2\r\n', set: [], removed: ['DATABASE_URL'] })
    expect(mergeEnvText(before, { DATABASE_URL: 'x' }).text).toBe('A=1\r\nDATABASE_URL=x\r\nB=2\r\n')
  })

  it('quotes values that would not read back the same', () => {
    for (const v of ['postgres://u:p#w@h/d', 'a b', 'say "hi"', "it's", '']) {
      expect(parseEnv(`K=${formatValue(v)}\n`).K ?? '', v).toBe(v)
    }
    expect(formatValue(URL_A)).toBe(URL_A)
  })

  it('writes the file with mode 0600, also when it was readable by others', () => {
    const dir = tempDir()
    const path = join(dir, '.env')
    writeFileSync(path, 'OTHER=1\n', { mode: 0o644 })
    const change = writeEnvFile(path, { DATABASE_URL: URL_A })
    expect(change).toMatchObject({ created: false, set: ['DATABASE_URL'] })
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readFileSync(path, 'utf8')).toBe(`OTHER=1\nDATABASE_URL=${URL_A}\n`)
  })

  it('adds .gitignore entries once, recognising equivalent spellings', () => {
    const dir = tempDir()
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\n/.env')
    expect(ensureGitignored(dir, ['.env', '.todo-db/'])).toEqual({ change: 'updated', added: ['.todo-db/'] })
    expect(ensureGitignored(dir, ['.env', '.todo-db'])).toEqual({ change: 'kept', added: [] })
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('node_modules/\n/.env\n\n# todo-db: secrets and the local database\n.todo-db/\n')
  })
})
