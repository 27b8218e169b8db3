import { lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import { describe, expect, it } from 'vitest'
import { formatValue, mergeEnvText, writeEnvFile } from '../src/provision/envfile.js'
import { ensureGitignored } from '../src/gitignore.js'
import { tempDir } from './helpers/cli.js'
import { TodoDbError } from '../src/errors.js'

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

  it('never follows a symbolic link planted at a temporary file name, and leaves no temporary file', () => {
    const dir = tempDir()
    const victim = join(tempDir(), 'victim')
    writeFileSync(victim, 'untouched\n', { mode: 0o644 })
    // The names a predictable scheme would use next: this process's pid, and the ones after it.
    for (let pid = process.pid; pid < process.pid + 5; pid++) symlinkSync(victim, join(dir, `..env.${pid}.tmp`))
    writeEnvFile(join(dir, '.env'), { DATABASE_URL: URL_A })
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n')
    expect(statSync(victim).mode & 0o777).toBe(0o644)
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`DATABASE_URL=${URL_A}\n`)
    expect(readdirSync(dir).filter((f) => !f.startsWith('..env.') || !lstatSync(join(dir, f)).isSymbolicLink())).toEqual(['.env'])
  })

  it('writes through a .env that is a symbolic link: the link stays, its target gets the keys (0600)', () => {
    const dir = tempDir()
    const shared = join(tempDir(), 'shared.env')
    writeFileSync(shared, 'OTHER=1\n', { mode: 0o644 })
    symlinkSync(shared, join(dir, '.env'))
    const change = writeEnvFile(join(dir, '.env'), { DATABASE_URL: URL_A })
    expect(change).toMatchObject({ created: false, set: ['DATABASE_URL'], target: shared })
    expect(lstatSync(join(dir, '.env')).isSymbolicLink()).toBe(true)
    expect(readFileSync(shared, 'utf8')).toBe(`OTHER=1\nDATABASE_URL=${URL_A}\n`)
    expect(statSync(shared).mode & 0o777).toBe(0o600)
  })

  it('refuses a dangling link or a directory as the env file (bad input, exit 3), touching nothing', () => {
    const dir = tempDir()
    symlinkSync(join(dir, 'missing.env'), join(dir, 'dangling'))
    mkdirSync(join(dir, 'folder'))
    const cases = { dangling: /symbolic link to .*missing\.env, which does not exist/, folder: /is a directory/ }
    for (const [name, message] of Object.entries(cases)) {
      let error: unknown
      try {
        writeEnvFile(join(dir, name), { DATABASE_URL: URL_A })
      } catch (e) {
        error = e
      }
      expect(error, name).toBeInstanceOf(TodoDbError)
      expect((error as TodoDbError).exitCode).toBe(3)
      expect((error as TodoDbError).message).toMatch(message)
    }
    expect(readdirSync(dir).sort()).toEqual(['dangling', 'folder'])
    expect(readdirSync(join(dir, 'folder'))).toEqual([])
  })

  it('adds .gitignore entries once, recognising equivalent spellings', () => {
    const dir = tempDir()
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\n/.env')
    expect(ensureGitignored(dir, ['.env', '.todo-db/'])).toEqual({ change: 'updated', added: ['.todo-db/'] })
    expect(ensureGitignored(dir, ['.env', '.todo-db'])).toEqual({ change: 'kept', added: [] })
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('node_modules/\n/.env\n\n# todo-db: secrets and the local database\n.todo-db/\n')
  })
})
