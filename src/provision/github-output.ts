// --github-output: the branch's id and URLs as step outputs of a GitHub Actions job, as Neon's own
// create-branch action gives them. The password is masked first with `::add-mask::`, the runner's
// own command: the runner reads that line, does not log it, and from then on writes *** for the
// password in every log line, also in later steps that print an output. It is the one line todo-db
// prints unredacted on purpose; without it GitHub would log the URLs in the clear wherever a later
// step echoes them.
//
// The mask lines go to stderr. The runner reads workflow commands from both streams of a `run`
// step (actions/runner ScriptHandler.cs hands stdout and stderr each to an OutputManager, whose
// OnDataReceived passes every `::` line to the command manager), so masking works the same; and
// stdout stays the result alone: exactly one JSON document with --json, which a step may capture
// (`$(todo-db ... --json)`, `| jq`) where a mask on stdout would never reach the runner at all.
import { appendFileSync } from 'node:fs'
import { badInput, failed } from '../errors.js'

export interface GithubOutputs {
  branch_id: string
  branch_name: string
  created: string
  db_url: string
  db_url_pooled: string
  db_host: string
  db_host_pooled: string
  expires_at?: string
}

/** Where the outputs go: $GITHUB_OUTPUT, which the runner sets in every step. */
export function githubOutputFile(env: NodeJS.ProcessEnv): string {
  const file = env.GITHUB_OUTPUT?.trim()
  if (!file) throw badInput('--github-output: GITHUB_OUTPUT is not set', 'use it in a GitHub Actions step, where the runner sets GITHUB_OUTPUT', 'USAGE')
  return file
}

/** Every spelling a URL's password may be printed in: as the URL writes it, decoded, percent-encoded. */
function passwordSpellings(url: string): string[] {
  const written = new URL(url).password
  let plain = written
  try {
    plain = decodeURIComponent(written)
  } catch {
    // a stray "%": the URL holds it as it is
  }
  return [written, plain, encodeURIComponent(plain)]
}

/**
 * A workflow command's data, escaped as @actions/core does it: the runner unescapes %0D, %0A and
 * %25 in it (actions/runner ActionCommand.cs, UnescapeData), so "%25" sent raw would mask "%".
 */
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')

/**
 * Masks every spelling of the URLs' passwords (`command` gets each `::add-mask::` line), then
 * appends the outputs to `file`: the masks come first, so the runner hides the values before any
 * step can print them.
 */
export function writeGithubOutputs(file: string, outputs: GithubOutputs, command: (line: string) => void): string[] {
  const masks = new Set([outputs.db_url, outputs.db_url_pooled].flatMap(passwordSpellings).filter(Boolean))
  for (const m of masks) command(`::add-mask::${escapeData(m)}`)
  const lines = Object.entries(outputs).filter(([, v]) => v !== undefined).map(([k, v]) => {
    // A newline would start a new output; none of these can hold one, but make sure.
    if (/[\r\n]/.test(v!)) throw new Error(`output ${k} holds a line break`)
    return `${k}=${v}\n`
  })
  try {
    appendFileSync(file, lines.join(''))
  } catch (e) {
    throw failed(`--github-output: cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { code: 'GITHUB_OUTPUT' })
  }
  return Object.keys(outputs).filter((k) => outputs[k as keyof GithubOutputs] !== undefined)
}
