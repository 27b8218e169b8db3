// Migration SQL as we may print it: --dry-run (human and --json), --verbose's log of what was
// sent, a failure's statement. Secrets in it are masked; the server still gets the SQL as written.
//
// The text is cut into tokens by PostgreSQL's own scanner (parser.ts), so quotes, comments and
// dollar quotes never fool us:
// - a string literal right after a word that names a secret (PASSWORD, OPTIONS (password '...'),
//   "password", secret, api_key, ...) is masked whole, however it is quoted: '', E'', U&'',
//   $tag$...$tag$, continued over lines;
// - any other literal is read (its quoting undone) and, when what it says holds password=... (a
//   libpq conninfo, JSON) or user:password@host (a URL), or is itself SQL with such a literal (a
//   function body, EXECUTE 'ALTER ROLE ... PASSWORD ''...'''), it is shown re-quoted with those
//   masked. The rest of the SQL is shown as written.
// Text the scanner cannot cut (an unterminated quote, which the server refuses too) is shown up
// to the first word that names a secret, and no further.
import { MASK, maskCredentials } from '../errors.js'
import { loadedParser } from './parser.js'

/** Names that say "password" and hold none: postgres_fdw's boolean, the server's hash setting. */
const NOT_SECRETS = new Set(['password_required', 'password_encryption'])

/**
 * Whether an option, key or setting of that name holds a secret: password, sslpassword,
 * PGPASSWORD, aws_secret_access_key, api_key; pwd and token as whole words (PWD=, access_token).
 */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase()
  return /password|passwd|secret|api_?key|(^|[_-])(pwd|token)([_-]|$)/.test(n) && !NOT_SECRETS.has(n)
}

/** Nested literals (a function body's EXECUTE '...') are read this deep. */
const MAX_DEPTH = 3

/** SQL text with its secrets masked (see the top of this file). */
export function maskSql(text: string): string {
  return maskTokens(text, 0) ?? maskRest(text)
}

/** A statement for a one-line message: its first line, at most 80 characters, secrets masked. */
export function shortStatement(text: string): string {
  const line = maskSql(text).trim().split('\n')[0].trim()
  return line.length > 80 ? `${line.slice(0, 77)}...` : line
}

const SECRET_WORD = /password|passwd|pwd|secret|token|api_?key/i

/** For text that cannot be cut into tokens: nothing after the first word naming a secret. */
function maskRest(text: string): string {
  const m = SECRET_WORD.exec(text)
  if (!m) return maskCredentials(text)
  return `${maskCredentials(text.slice(0, m.index))}${m[0]} ${MASK} (the rest is not shown: it is not SQL todo-db can read)`
}

interface Token {
  /** String indices into the text, end exclusive. */
  start: number
  end: number
  raw: string
}

/** A function from the scanner's UTF-8 byte offsets to string indices, called with offsets in increasing order. */
function byteIndexer(text: string): (byte: number) => number {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length === text.length) return (byte) => byte
  let [atByte, atIndex] = [0, 0]
  return (byte) => {
    atIndex += bytes.subarray(atByte, byte).toString('utf8').length
    atByte = byte
    return atIndex
  }
}

/** The tokens of `text` without its comments, or undefined when the scanner cannot cut it (or is not loaded). */
function tokensOf(text: string): Token[] | undefined {
  const pg = loadedParser()
  // A NUL would end the text early for the scanner, and the rest would never be looked at.
  if (!pg || text.includes('\0')) return undefined
  let scanned: ReturnType<typeof pg.scanSync>['tokens']
  try {
    scanned = pg.scanSync(text).tokens ?? []
  } catch {
    return undefined
  }
  const at = byteIndexer(text)
  const tokens: Token[] = []
  let covered = 0
  for (const t of scanned) {
    const start = at(t.start)
    const end = at(t.end)
    // Only whitespace between tokens: else the scan and the text disagree, and we do not guess.
    if (start < covered || text.slice(covered, start).trim()) return undefined
    covered = end
    if (t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT') tokens.push({ start, end, raw: text.slice(start, end) })
  }
  return text.slice(covered).trim() ? undefined : tokens
}

function maskTokens(text: string, depth: number): string | undefined {
  const tokens = tokensOf(text)
  if (!tokens) return undefined
  const replaced: { start: number; end: number; text: string }[] = []
  for (let k = 0; k < tokens.length; k++) {
    if (!isStringToken(tokens[k])) continue
    // 'a' -- comment <newline> 'b' is one literal that the scanner gives as two: read as one.
    let last = k
    while (tokens[last + 1] && isStringToken(tokens[last + 1])) last++
    const span = { start: tokens[k].start, end: tokens[last].end }
    const parts = tokens.slice(k, last + 1)
    const secret = followsSecretName(tokens, k)
    k = last
    if (secret) {
      replaced.push({ ...span, text: `'${MASK}'` })
      continue
    }
    const escape = uescapeAfter(tokens, last)
    const literals = parts.map((t) => readLiteral(t.raw, escape))
    if (literals.some((l) => !l)) {
      // Not a shape we know how to unquote: mask what can be seen as it is written.
      const raw = text.slice(span.start, span.end)
      const masked = maskValue(raw, MAX_DEPTH)
      if (masked !== raw) replaced.push({ ...span, text: masked })
      continue
    }
    const value = literals.map((l) => l!.value).join('')
    const masked = maskValue(value, depth)
    if (masked !== value) replaced.push({ ...span, text: literals[0]!.quote(masked) })
  }
  let out = ''
  let from = 0
  for (const r of replaced) {
    out += text.slice(from, r.start) + r.text
    from = r.end
  }
  return out + text.slice(from)
}

/** What a literal says, with its secrets masked: key=value pairs, URLs, and SQL inside it (one level deeper). */
function maskValue(value: string, depth: number): string {
  const inner = depth < MAX_DEPTH ? maskTokens(value, depth + 1) ?? value : value
  return maskCredentials(inner.replace(KEY_VALUE, (m, key: string, sep: string, v: string) => {
    const quote = v[0] === "'" || v[0] === '"' ? v[0] : ''
    // Masked already, as a nested literal: its closing quote and what follows stay.
    if (!isSecretName(key) || v.startsWith(MASK, quote.length)) return m
    return `${key}${sep}${quote}${MASK}${quote}`
  }))
}

/**
 * key=value (a libpq conninfo: unquoted up to whitespace, or '...' with backslash escapes),
 * key: "value" (JSON), ?key=value (a URL), key => value, key := value (not key::type). A value
 * that is not closed runs to the end. Only keys that may name a secret are matched, so that
 * another key's unquoted value (a URL: postgres://h/db?password=...) never swallows one.
 */
const KEY_VALUE = /([A-Za-z0-9_-]*(?:password|passwd|pwd|secret|token|api_?key)[A-Za-z0-9_-]*)(["']?\s*(?:=>?|:=|:(?!:))\s*)('(?:[^'\\]|\\[\s\S])*'?|"(?:[^"\\]|\\[\s\S])*"?|(?:[^\s\\]|\\[\s\S])+)/gi

const isStringToken = (t: Token) => /^(?:[eE]?'|[uU]&'|\$[^$]*\$)/.test(t.raw)

/** Words that may stand between an option's name and its value. */
const JOINERS = new Set(['=', '=>', ':=', 'to'])

/** Whether the literal at k is the value of a secret: PASSWORD '...', password => '...', SET x.token = '...'. */
function followsSecretName(tokens: Token[], k: number): boolean {
  let j = k - 1
  // N'...' is the word nchar and the literal, for the scanner.
  if (tokens[j] && /^n$/i.test(tokens[j].raw) && tokens[j].end === tokens[k].start) j--
  if (tokens[j] && JOINERS.has(tokens[j].raw.toLowerCase())) j--
  return !!tokens[j] && isSecretName(nameOf(tokens[j].raw))
}

/** An identifier or keyword as the server reads it: "password" and U&"p\0061ssword" are password. */
function nameOf(raw: string): string {
  if (raw.startsWith('"')) return raw.slice(1, -1).replace(/""/g, '"')
  if (/^u&"/i.test(raw)) return unicodeEscapes(raw.slice(3, -1).replace(/""/g, '"'), '\\')
  return raw
}

/** The escape character of a U&'...' literal given by a UESCAPE 'c' after it; undefined for none. */
function uescapeAfter(tokens: Token[], k: number): string | undefined {
  const [word, value] = [tokens[k + 1], tokens[k + 2]]
  if (!word || !value || word.raw.toLowerCase() !== 'uescape') return undefined
  return /^'(.)'$/s.exec(value.raw)?.[1]
}

interface Literal {
  value: string
  /** `value` written again in the literal's own quoting. */
  quote(value: string): string
}

/** What a string literal token says, and how to write another value its way; undefined for a shape we do not know. */
function readLiteral(raw: string, uescape?: string): Literal | undefined {
  const dollar = /^(\$[^$]*\$)([\s\S]*)\1$/.exec(raw)
  if (dollar) {
    const tag = dollar[1]
    return { value: dollar[2], quote: (v) => `${tag}${v}${tag}` }
  }
  const head = /^(?:[eE]|[uU]&)?'/.exec(raw)?.[0]
  if (!head) return undefined
  const kind = head.length === 1 ? 'standard' : head.length === 2 ? 'extended' : 'unicode'
  const bodies = segments(raw.slice(head.length - 1), kind === 'extended')
  if (!bodies) return undefined
  const body = bodies.join('')
  const doubled = (v: string) => v.replace(/'/g, "''")
  if (kind === 'extended') return { value: backslashEscapes(body), quote: (v) => `${head}${doubled(v.replace(/\\/g, '\\\\'))}'` }
  const plain = body.replace(/''/g, "'")
  if (kind === 'standard') return { value: plain, quote: (v) => `'${doubled(v)}'` }
  const esc = uescape ?? '\\'
  return { value: unicodeEscapes(plain, esc), quote: (v) => `${head}${doubled(v.split(esc).join(esc + esc))}'` }
}

/**
 * The bodies of a literal's quoted parts as written: 'a' 'b' continues over a line break (the
 * scanner made one token of them; only whitespace and -- comments stand between). Quotes are
 * left doubled, backslashes as they are. Undefined if the text is not such a literal.
 */
function segments(text: string, backslashes: boolean): string[] | undefined {
  const bodies: string[] = []
  let i = 0
  while (i < text.length) {
    if (text[i] !== "'") return undefined
    let j = i + 1
    for (; j < text.length; j++) {
      if (backslashes && text[j] === '\\') j++
      else if (text[j] === "'" && text[j + 1] === "'") j++
      else if (text[j] === "'") break
    }
    if (j >= text.length) return undefined
    bodies.push(text.slice(i + 1, j))
    i = j + 1
    // Between parts: whitespace and -- comments only.
    while (i < text.length && text[i] !== "'") {
      if (text.startsWith('--', i)) {
        const nl = text.indexOf('\n', i)
        i = nl < 0 ? text.length : nl + 1
      } else if (/\s/.test(text[i])) i++
      else return undefined
    }
  }
  return bodies
}

/** An E'...' body: '' and the backslash escapes (\n, \047, \x41, \u0041, \U00000041, \\ ...). */
function backslashEscapes(body: string): string {
  const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }
  let out = ''
  // Octal and hex escapes are bytes: consecutive ones may spell one UTF-8 character.
  let bytes: number[] = []
  const flush = () => {
    if (bytes.length) out += Buffer.from(bytes).toString('utf8')
    bytes = []
  }
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]
    if (ch === "'" && body[i + 1] === "'") {
      flush()
      out += "'"
      i++
      continue
    }
    if (ch !== '\\' || i + 1 >= body.length) {
      flush()
      out += ch
      continue
    }
    const rest = body.slice(i + 1)
    const m = /^(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/.exec(rest)
    if (m?.[1] || m?.[2]) {
      bytes.push(parseInt(m[1] ?? m[2], m[1] ? 8 : 16) & 0xff)
      i += m[0].length
      continue
    }
    flush()
    if (m) {
      out += String.fromCodePoint(parseInt(m[3] ?? m[4], 16))
      i += m[0].length
    } else {
      out += simple[rest[0]] ?? rest[0]
      i++
    }
  }
  flush()
  return out
}

/** A U&'...' body with its quotes undone: esc+XXXX, esc++XXXXXX, esc+esc. */
function unicodeEscapes(body: string, esc: string): string {
  let out = ''
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== esc) {
      out += body[i]
      continue
    }
    const rest = body.slice(i + 1)
    const m = /^(?:([0-9a-fA-F]{4})|\+([0-9a-fA-F]{6}))/.exec(rest)
    if (m) {
      const cp = parseInt(m[1] ?? m[2], 16)
      out += cp <= 0x10ffff ? String.fromCodePoint(cp) : ''
      i += m[0].length
    } else if (rest[0] === esc) {
      out += esc
      i++
    } else out += esc
  }
  return out
}
