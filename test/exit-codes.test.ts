// One exit-code table (EXIT_CODES in src/errors.ts): the README's copy is generated from it, and
// each command's help shows its rows. If this fails after a change to the table, paste the
// expected table between the README's exit-codes markers.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EXIT_CODES, ExitCode, exitCodesMarkdown } from '../src/errors.js'
import { runCli } from './helpers/cli.js'

const README = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8')

describe('the exit-code table', () => {
  it('is the README table, as generated', () => {
    const generated = /<!-- exit-codes:begin -->\n([\s\S]*?)\n<!-- exit-codes:end -->/.exec(README)?.[1]
    expect(generated).toBe(exitCodesMarkdown())
  })

  it('has one row for every exit code', () => {
    const codes = EXIT_CODES.flatMap((r) => r.codes)
    expect([...codes].sort((a, b) => a - b)).toEqual(Object.values(ExitCode).sort((a, b) => a - b))
  })

  it.each([
    [[], ['0', '1', '2', '3', '4', '5', '130/143']],
    [['health'], ['0', '1', '2', '3', '130/143']],
    [['migrate'], ['0', '1', '2', '3', '4', '5', '130/143']],
    [['seed'], ['0', '1', '2', '3', '130/143']],
    [['provision'], ['0', '1', '2', '3', '130/143']],
  ])('todo-db %j --help lists its rows of the table', async (command, rows) => {
    const r = await runCli([...command, '--help'])
    expect(r.code).toBe(0)
    const block = r.stdout.slice(r.stdout.indexOf('Exit codes'))
    const listed = [...block.matchAll(/^ {2}(\d+(?:\/\d+)?) {2,}/gm)].map((m) => m[1])
    expect(listed).toEqual(rows)
  })

  it('seed --help says a lost connection is exit 2, as the table does', async () => {
    const r = await runCli(['seed', '--help'])
    expect(r.stdout).toMatch(/^ {2}2 +no answer from the server, or the connection was lost/m)
  })
})
