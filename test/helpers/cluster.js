// A throwaway PostgreSQL cluster on a free loopback port, for the tests and the benchmark.
// Uses Debian's PostgreSQL server (pg_config --bindir); as root it runs as the postgres user.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * @typedef {object} Cluster
 * @property {string} host
 * @property {number} port
 * @property {string} user
 * @property {string} password
 * @property {string} caFile  CA certificate that signed the server certificate (SAN localhost, 127.0.0.1)
 * @property {string} dir     folder of the cluster; also its Unix socket directory
 * @property {string} bindir  PostgreSQL server binaries
 * @property {(database?: string, params?: string) => string} url
 * @property {(sql: string, database?: string) => string} psql
 * @property {() => void} stop
 */

/**
 * The suite's one way to write a connection URL (the password percent-encoded, as the CLI expects).
 * @param {{ user: string, password: string, host: string, port: number, database?: string, params?: string, scheme?: string }} p
 */
export function pgUrl({ user, password, host, port, database = 'postgres', params = 'sslmode=disable', scheme = 'postgres' }) {
  return `${scheme}://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}${params ? '?' + params : ''}`
}

/**
 * The suite's one psql: as the superuser over the cluster's Unix socket, stopping at the first error.
 * @param {{ dir: string, port: number, user: string }} c
 * @param {string | string[]} sql
 * @param {string} [database]
 */
export function psqlAt(c, sql, database = 'postgres') {
  // Several statements: one -c each, so each runs on its own (DROP DATABASE refuses a transaction block).
  const commands = (Array.isArray(sql) ? sql : [sql]).flatMap((s) => ['-c', s])
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', c.dir, '-p', String(c.port), '-U', c.user, '-d', database, ...commands], {
    encoding: 'utf8',
  }).trim()
}

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address())
      srv.close(() => resolve(port))
    })
  })
}

export function bindir() {
  /** @type {(string|undefined)[]} */
  const candidates = [process.env.PG_BINDIR]
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim())
  } catch {
    // pg_config is not everywhere; fall through to the Debian path
  }
  candidates.push('/usr/lib/postgresql/15/bin')
  for (const c of candidates) if (c && existsSync(join(c, 'initdb'))) return c
  throw new Error('PostgreSQL server binaries not found: install postgresql-15 or set PG_BINDIR')
}

const isRoot = process.getuid?.() === 0

/** Runs a PostgreSQL binary, as the postgres user when we are root (PostgreSQL refuses root). */
/** @param {string} bin @param {string[]} args */
function runPg(bin, args) {
  const cmd = isRoot ? 'runuser' : bin
  const argv = isRoot ? ['-u', 'postgres', '--', bin, ...args] : args
  const r = spawnSync(cmd, argv, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr || r.stdout}`)
}

/** @param {string} path */
function chownTree(path) {
  if (isRoot) execFileSync('chown', ['-R', 'postgres:postgres', path])
}

/** @param {string} dir */
function makeCerts(dir) {
  const ssl = (/** @type {string[]} */ ...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=todo-db test CA',
    '-keyout', 'ca.key', '-out', 'ca.crt')
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr')
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt')
  chmodSync(join(dir, 'server.key'), 0o600)
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') }
}

/**
 * @param {{ ssl?: boolean, password?: string }} [opts]
 * @returns {Promise<Cluster>}
 */
export async function startCluster(opts = {}) {
  const bin = bindir()
  const dir = mkdtempSync(join(tmpdir(), 'todo-db-pg-'))
  chmodSync(dir, 0o755)
  const data = join(dir, 'data')
  const password = opts.password ?? 'pw-' + Math.random().toString(36).slice(2) + '-S3cret'
  const pwfile = join(dir, 'pwfile')
  writeFileSync(pwfile, password + '\n')
  const certs = makeCerts(dir)
  chownTree(dir)

  runPg(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '--auth-host=scram-sha-256',
    '--auth-local=trust', '-E', 'UTF8', '--locale=C', '--no-sync'])
  const port = await freePort()
  const conf = [
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${dir}'`,
    'max_connections = 200',
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    `ssl = ${opts.ssl === false ? 'off' : 'on'}`,
    `ssl_cert_file = '${certs.cert}'`,
    `ssl_key_file = '${certs.key}'`,
  ].join('\n')
  writeFileSync(join(data, 'postgresql.auto.conf'), conf + '\n')
  chownTree(data)
  runPg(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', 'start'])

  const host = '127.0.0.1'
  const user = 'postgres'
  const url = (/** @type {string} */ database = 'postgres', /** @type {string} */ params = 'sslmode=disable') =>
    pgUrl({ user, password, host, port, database, params })
  return {
    host,
    port,
    user,
    password,
    caFile: certs.ca,
    dir,
    bindir: bin,
    url,
    psql(sql, database = 'postgres') {
      return psqlAt({ dir, port, user }, sql, database)
    },
    stop() {
      try {
        runPg(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
