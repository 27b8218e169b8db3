// npm run bench: starts a throwaway PostgreSQL, then runs every bench/*.bench.mjs against it.
// Each compares todo-db with a reference measured in the same run and prints ratios.
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startCluster } from '../test/helpers/cluster.js'

const here = dirname(fileURLToPath(import.meta.url))
const bin = resolve(here, '../bin/todo-db.js')

/** Runs the built CLI; resolves with exit code, wall time and output. */
function runCli(args, env = {}) {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolvePromise({ code, ms: Number(process.hrtime.bigint() - started) / 1e6, stdout, stderr }))
  })
}

/** Wall time in ms of a command that must exit 0 (its stdout ignored, its stderr kept for the error). */
function timed(cmd, args, env = {}) {
  return new Promise((res, rej) => {
    const started = process.hrtime.bigint()
    const child = spawn(cmd, args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.on('error', rej)
    child.on('close', (code) => (code === 0 ? res(Number(process.hrtime.bigint() - started) / 1e6) : rej(new Error(`${cmd} exited ${code}: ${err}`))))
  })
}

/** Wall time of fn in ms. */
async function time(fn) {
  const started = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - started) / 1e6
}

/**
 * Imports one of the tests' TypeScript helpers (test/helpers/*.ts), bundled by esbuild, so the
 * bench uses the very proxy the tests use rather than a copy.
 */
async function importTs(path) {
  const { build } = await import('esbuild')
  const outfile = join(mkdtempSync(join(tmpdir(), 'todo-db-bench-ts-')), 'helper.mjs')
  await build({ entryPoints: [resolve(here, '..', path)], outfile, bundle: true, format: 'esm', platform: 'node', packages: 'external', logLevel: 'warning' })
  return import(outfile)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const only = process.argv.slice(2)
const files = readdirSync(here).filter((f) => f.endsWith('.bench.mjs')).filter((f) => !only.length || only.some((o) => f.includes(o))).sort()
const cluster = await startCluster()
let failed = false
try {
  for (const file of files) {
    console.log(`\n## ${file.replace('.bench.mjs', '')}`)
    const mod = await import(join(here, file))
    try {
      await mod.default({ cluster, bin, runCli, timed, time, median, importTs, log: (line) => console.log(line) })
    } catch (e) {
      failed = true
      console.log(`bench failed: ${e.message}`)
    }
  }
} finally {
  cluster.stop()
}
process.exit(failed ? 1 : 0)
