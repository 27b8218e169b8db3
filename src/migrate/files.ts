// The migration files on disk: names, order, SQL sections and checksums.
// Order and section parsing come from node-pg-migrate itself, so what we check and print is
// exactly what its runner executes.
import { createHash } from 'node:crypto'
import { readFile, readdir, stat } from 'node:fs/promises'
import { basename, extname, relative, resolve } from 'node:path'
import { badInput } from '../errors.js'

export interface MigrationFile {
  /** The file name without extension: what the migrations table records. */
  name: string
  path: string
  content: string
  checksum: string
}

/**
 * sha256 of the file's bytes with CRLF read as LF: a checkout with core.autocrlf must not read as
 * an edit, any other byte that changes must. For valid UTF-8 (the only kind we accept) this is
 * the same digest as the one older versions took over the decoded text, so their journals match.
 */
export function checksumOf(content: Uint8Array | string): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content.buffer, content.byteOffset, content.byteLength)
  // latin1 maps each byte to one character and back: a byte-exact CRLF -> LF.
  return createHash('sha256').update(Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')).digest('hex')
}

// ignoreBOM: keep a BOM in the text, as readFile(..., 'utf8') did, so checksums and positions stay.
const strictUtf8 = () => new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * The file as text, or exit 3 naming the first byte that is not UTF-8: PostgreSQL would store a
 * Latin-1 "é" as U+FFFD (or refuse it) and the checksum of decoded text would not see it change.
 */
export function decodeMigration(bytes: Uint8Array, shown: string): string {
  try {
    return strictUtf8().decode(bytes)
  } catch {
    const offset = firstInvalidUtf8(bytes)
    const line = bytes.subarray(0, offset).filter((b) => b === 0x0a).length + 1
    throw badInput(`${shown} is not valid UTF-8: byte 0x${bytes[offset]?.toString(16).padStart(2, '0') ?? ''} at byte offset ${offset} (line ${line})`,
      'save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)', 'BAD_ENCODING')
  }
}

/** Offset of the first byte of the first invalid sequence, by the decoder's own rules. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  // With stream: true a sequence cut at the end of a prefix is not an error, so "this prefix
  // decodes" only turns false past the first invalid byte: binary search for where.
  const decodes = (n: number) => { try { strictUtf8().decode(bytes.subarray(0, n), { stream: true }); return true } catch { return false } }
  let [lo, hi] = [0, bytes.length + 1] // decodes(lo); hi: first length known not to (or past the end)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if (decodes(mid)) lo = mid
    else hi = mid
  }
  // The longest prefix that decodes ends inside the bad sequence: its complete characters end where it starts.
  return Buffer.byteLength(strictUtf8().decode(bytes.subarray(0, lo), { stream: true }))
}

/** What node-pg-migrate can run: SQL, and JavaScript or TypeScript modules. */
const RUNNABLE = ['sql', 'js', 'cjs', 'mjs', 'ts', 'cts', 'mts']

/**
 * The same rule for node-pg-migrate's runner (its `ignorePattern`, matched as ^...$): dot files,
 * and anything else that is not a migration (a README.md, an editor's backup) in the folder.
 */
export const IGNORE_PATTERN = `\\..*|.*(?<!\\.(?:${RUNNABLE.join('|')}))`

const isMigrationFile = (name: string) => !name.startsWith('.') && RUNNABLE.includes(extname(name).slice(1))

export async function loadMigrationFiles(dir: string): Promise<MigrationFile[]> {
  const abs = resolve(dir)
  const info = await stat(abs).catch(() => undefined)
  if (!info?.isDirectory()) {
    throw badInput(`the migrations folder ${dir} does not exist`, 'pass --migrations-dir, set migrationsDir in the config, or run todo-db migrate create NAME', 'NO_MIGRATIONS_DIR')
  }
  // As node-pg-migrate's getMigrationFilePaths lists them with IGNORE_PATTERN (files, its
  // comparator), without loading glob, which that module pulls in.
  const { compareMigrationFileNames } = await import('node-pg-migrate/utils/comparators')
  const names = (await readdir(abs, { withFileTypes: true }))
    .filter((d) => (d.isFile() || d.isSymbolicLink()) && isMigrationFile(d.name))
    .map((d) => d.name)
  const unordered = names.find((n) => !/^\d+/.test(n))
  if (unordered) {
    throw badInput(`the migration file ${unordered} has no number to order it by`,
      'rename it like 1764000000000_name.sql (todo-db migrate create NAME makes one)', 'BAD_MIGRATION_NAME')
  }
  names.sort((a, b) => compareMigrationFileNames(a, b))
  // The journal records the name without its extension: 001_a.js beside an applied 001_a.sql
  // would read as applied and never run.
  const seen = new Map<string, string>()
  for (const n of names) {
    const name = basename(n, extname(n))
    const other = seen.get(name)
    if (other) {
      throw badInput(`two migrations are named ${name}: ${other} and ${n}`,
        'rename or remove one: the migrations table knows a migration by its name without the extension', 'DUPLICATE_MIGRATION')
    }
    seen.set(name, n)
  }
  const paths = names.map((n) => resolve(abs, n))
  return Promise.all(
    paths.map(async (path) => {
      const bytes = await readFile(path)
      const content = decodeMigration(bytes, relative(process.cwd(), path) || path)
      return { name: basename(path, extname(path)), path, content, checksum: checksumOf(bytes) }
    }),
  )
}

/** A file node-pg-migrate reads as one SQL migration (not a .js one, nor an .up.sql/.down.sql pair). */
export const isPlainSql = (f: MigrationFile) => /\.sql$/i.test(f.path) && !/\.(up|down)\.sql$/i.test(f.path)

/**
 * `-- todo-db:no-transaction` on a line of its own: the file runs outside a transaction, for what
 * PostgreSQL refuses inside one (CREATE INDEX CONCURRENTLY, ALTER TYPE ... ADD VALUE before 12).
 * Like dbmate's `transaction:false` and graphile-migrate's `--! no-transaction`.
 */
const NO_TRANSACTION = /^[ \t]*--[ \t]*todo-db:no-transaction[ \t]*$/im
export const runsOutsideTransaction = (f: MigrationFile) => isPlainSql(f) && NO_TRANSACTION.test(f.content)

/** The SQL one direction of a SQL migration runs, as node-pg-migrate cuts it from the file. */
export async function sectionSql(file: MigrationFile, direction: 'up' | 'down'): Promise<string | undefined> {
  if (extname(file.path).toLowerCase() !== '.sql') return undefined
  const { getActions } = await import('node-pg-migrate/sqlMigration')
  const action = getActions(file.content)[direction]
  if (typeof action !== 'function') return undefined
  let sql = ''
  await action({ sql: (text: string) => void (sql += text) } as never, () => {})
  return sql
}

/**
 * Line and column (1-based) of a string index in a file. The column counts characters (code
 * points), as PostgreSQL and editors do, not UTF-16 units: an emoji is one column.
 */
export function lineAndColumn(content: string, offset: number): { line: number; column: number } {
  const before = content.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: [...before.slice(before.lastIndexOf('\n') + 1)].length + 1 }
}
