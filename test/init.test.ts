import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir } from './helpers/cli.js'
import { SCHEMA_FILES } from './helpers/migrate.js'

describe('todo-db init', () => {
  it('creates config, .env.example, .gitignore entry and the migrations folder with the schema', async () => {
    const cwd = tempDir()
    const r = await runCli(['init'], { cwd })
    expect(r.code).toBe(0)
    expect(JSON.parse(readFileSync(join(cwd, '.todo-dbrc.json'), 'utf8')).migrationsDir).toBe('migrations')
    const example = readFileSync(join(cwd, '.env.example'), 'utf8')
    for (const v of ['DATABASE_URL=', 'DATABASE_URL_UNPOOLED=', 'NEON_API_KEY=', 'NEON_API_HOST']) expect(example).toContain(v)
    expect(readFileSync(join(cwd, '.gitignore'), 'utf8').split('\n')).toContain('.env')
    expect(readdirSync(join(cwd, 'migrations')).filter((f) => f.endsWith('.sql'))).toHaveLength(SCHEMA_FILES.length)
    expect(r.stdout).toMatch(/Next:\n\s+cp \.env\.example \.env[\s\S]*todo-db migrate up/)
  })

  it('-q prints only what happened to each file: no heading, no next steps', async () => {
    const cwd = tempDir()
    const r = await runCli(['init', '-q'], { cwd })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    const lines = r.stdout.trim().split('\n')
    expect(lines.length).toBeGreaterThan(3)
    for (const line of lines) expect(line).toMatch(/^(created|updated|kept|overwritten) \S/)
    expect(r.stdout).toMatch(/^created \.todo-dbrc\.json$/m)
    expect(r.stdout).not.toMatch(/Next:|set up|todo-db migrate up/)
  })

  it('is safe to run twice and never overwrites without --force', async () => {
    const cwd = tempDir()
    writeFileSync(join(cwd, '.gitignore'), 'node_modules/\n.env\n')
    writeFileSync(join(cwd, '.env.example'), 'MINE=1\n')
    expect((await runCli(['init'], { cwd })).code).toBe(0)
    const second = await runCli(['init', '--json'], { cwd })
    expect(second.code).toBe(0)
    const { changes } = JSON.parse(second.stdout)
    expect(changes.every((c: { action: string }) => c.action === 'kept')).toBe(true)
    expect(readFileSync(join(cwd, '.env.example'), 'utf8')).toBe('MINE=1\n')
    const gitignore = readFileSync(join(cwd, '.gitignore'), 'utf8').split('\n')
    expect(gitignore.filter((l) => l === '.env')).toHaveLength(1)
    expect(gitignore).toContain('node_modules/')
    expect(gitignore).toContain('.todo-db/')

    const forced = await runCli(['init', '--force'], { cwd })
    expect(forced.code).toBe(0)
    expect(readFileSync(join(cwd, '.env.example'), 'utf8')).toContain('DATABASE_URL=')
  })

  it('takes an absolute --migrations-dir as it is, and writes nothing when it cannot make the folder', async () => {
    const cwd = tempDir()
    const abs = join(tempDir(), 'schema')
    expect((await runCli(['init', '--migrations-dir', abs], { cwd })).code).toBe(0)
    expect(readdirSync(abs).filter((f) => f.endsWith('.sql'))).toHaveLength(SCHEMA_FILES.length)
    expect(JSON.parse(readFileSync(join(cwd, '.todo-dbrc.json'), 'utf8')).migrationsDir).toBe(abs)

    const empty = tempDir()
    const r = await runCli(['init', '--migrations-dir', '/dev/null/migrations'], { cwd: empty })
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toEqual(['error: cannot create the migrations folder /dev/null/migrations: ENOTDIR (pass --migrations-dir with a folder you can write)'])
    expect(readdirSync(empty)).toEqual([])
  })

  it('respects a config that already lives in package.json', async () => {
    const cwd = tempDir()
    writeFileSync(join(cwd, 'package.json'), JSON.stringify({ name: 'app', 'todo-db': { migrationsDir: 'db/migrations' } }))
    const r = await runCli(['init', '--migrations-dir', 'db/migrations'], { cwd })
    expect(r.code).toBe(0)
    expect(existsSync(join(cwd, '.todo-dbrc.json'))).toBe(false)
    expect(statSync(join(cwd, 'db/migrations')).isDirectory()).toBe(true)
  })
})
