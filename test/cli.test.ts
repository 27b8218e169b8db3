import { describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli.js'

describe('the todo-db command line', () => {
  it('--help lists every command with its purpose, examples and exit codes', async () => {
    const r = await runCli(['--help'])
    expect(r.code).toBe(0)
    for (const cmd of ['init', 'health', 'migrate', 'seed', 'provision']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b.* \\w+`, 'm'))
    expect(r.stdout).toMatch(/Examples:/)
    expect(r.stdout).toMatch(/Exit codes:/)
  })

  it('--version prints the version', async () => {
    const r = await runCli(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('an unknown command is one clear line and exit 3', async () => {
    const r = await runCli(['helth'])
    expect(r.code).toBe(3)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/unknown command 'helth'.*health/)
    expect(r.stdout).toBe('')
  })

  it('an unknown flag is one clear line and exit 3', async () => {
    const r = await runCli(['health', '--timout', '5s'])
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/unknown option '--timout'/)
    expect(r.stderr).toMatch(/todo-db --help/)
  })

  it('no command (or a group without its subcommand) shows the help on stderr, exit 3', async () => {
    const bare = await runCli([])
    expect(bare.code).toBe(3)
    expect(bare.stderr).toMatch(/Usage: todo-db/)
    const group = await runCli(['migrate'])
    expect(group.code).toBe(3)
    expect(group.stderr).toMatch(/Usage: todo-db migrate[\s\S]*up[\s\S]*down[\s\S]*status[\s\S]*create/)
  })

  it('a missing flag value is exit 3', async () => {
    const r = await runCli(['health', '--timeout'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/argument missing/)
  })
})
