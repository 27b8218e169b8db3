// A person at a terminal: the CLI on a real pseudo-terminal (util-linux `script`), answering its question.
import { spawn } from 'node:child_process'
import { expect } from 'vitest'
import { BIN, leakedSecret } from './cli.js'

const PROMPT = 'Go ahead? [y/N]'

/**
 * Runs the CLI on a pseudo-terminal and, once it asks, types `answer` and Enter (what a person
 * does). Resolves with the exit code and everything the terminal showed.
 */
export function onTty(args: string[], env: Record<string, string>, answer?: string, cwd?: string): Promise<{ code: number; screen: string; asked: boolean }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, TERM: 'xterm-256color', NO_COLOR: '1' }
  delete childEnv.CI
  delete childEnv.DATABASE_URL
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', `stty cols 120 rows 40; ${command}`, '/dev/null'], { env: childEnv, cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    let screen = ''
    let asked = false
    child.stdout.on('data', (d) => {
      screen += d
      if (!asked && screen.includes(PROMPT)) {
        asked = true
        if (answer !== undefined) child.stdin.write(`${answer}\r`)
      }
    })
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      expect(leakedSecret(screen)).toBeUndefined()
      resolve({ code: code ?? -1, screen, asked })
    })
  })
}

