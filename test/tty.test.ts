// Colour and spinners only for a person at a terminal: run under a real pseudo-terminal
// (util-linux `script`) and compare with the same command on pipes.
import { execFile } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, dbUrl, dropDatabase } from './helpers/db.js'
import { applySchema } from './helpers/schema.js'
import { BIN, leakedSecret, runCli } from './helpers/cli.js'

const ESC = '\u001b['

/** Runs the CLI on a pseudo-terminal; resolves with everything the terminal showed. */
function onTty(args: string[], env: Record<string, string>, sized = true): Promise<{ code: number; screen: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, TERM: 'xterm-256color', COLUMNS: '120' }
  delete childEnv.CI // CI turns spinners off even on a terminal
  delete childEnv.NO_COLOR
  return new Promise((resolve) => {
    // A fresh pty has 0 columns (todo-db then assumes 80): give it a size first, unless testing that.
    execFile('script', ['-qec', sized ? `stty cols 120 rows 40; ${command}` : command, '/dev/null'], { env: childEnv, timeout: 60_000 }, (err, stdout) => {
      const screen = String(stdout)
      expect(leakedSecret(screen)).toBeUndefined()
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, screen })
    })
  })
}

let db: string
beforeAll(() => {
  db = createDatabase('tty')
  applySchema(db)
})
afterAll(() => dropDatabase(db))

describe('on a terminal', () => {
  it('health is coloured on a TTY and plain on a pipe', async () => {
    const tty = await onTty(['health', '--database-url', dbUrl(db)], {})
    expect(tty.code).toBe(0)
    expect(tty.screen).toContain(`${ESC}32maccepting connections`)
    const pipe = await runCli(['health', '--database-url', dbUrl(db)], { env: { NO_COLOR: undefined } })
    expect(pipe.stdout).not.toContain(ESC)
    const noColor = await onTty(['health', '--no-color', '--database-url', dbUrl(db)], {})
    expect(noColor.screen).toContain('accepting connections')
    expect(noColor.screen).not.toContain(`${ESC}32m`)
  })

  it('seed shows a progress line on a TTY, and nothing but the result on a pipe', async () => {
    const args = ['seed', '--users', '50', '--todos', '60000', '--database-url', dbUrl(db)]
    const tty = await onTty(args, {})
    expect(tty.code).toBe(0)
    expect(tty.screen).toMatch(/seeding:/) // the spinner's line; the result says "seeded"
    expect(tty.screen).toMatch(/seeded 50 users/)
    const pipe = await runCli(args)
    expect(pipe.code).toBe(0)
    expect(pipe.stderr).toBe('')
    expect(pipe.stdout.trim().split('\n')).toHaveLength(1)
    expect(pipe.stdout).not.toMatch(/seeding:/)
  })

  it('a terminal that reports no size (script -qc) gets the progress line as 80 columns wide', async () => {
    const args = ['seed', '--users', '50', '--todos', '60000', '--database-url', dbUrl(db)]
    const tty = await onTty(args, { COLUMNS: '', LINES: '' }, false)
    expect(tty.code, tty.screen).toBe(0)
    expect(tty.screen).toMatch(/seeding:/)
    expect(tty.screen).toMatch(/seeded 50 users/)
    // each frame fits one 80-column line: redrawn in place, never by moving up over wrapped lines
    expect(tty.screen).not.toContain(`${ESC}1A`)
  })
})
