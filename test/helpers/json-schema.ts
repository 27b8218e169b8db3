// The published JSON Schemas (schemas/*.schema.json), and which one a command line's --json
// document must follow. runCli() checks every --json run of the suite against them.
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'

export const SCHEMAS = resolve(__dirname, '../../schemas')

let ajv: Ajv2020 | undefined
function validator(): Ajv2020 {
  if (ajv) return ajv
  ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false })
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/)
  for (const file of readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')))
  }
  return ajv
}

const COMMANDS = ['health', 'init', 'seed', 'migrate', 'provision']
/** migrate's next word is a subcommand with its own schema. */
const GROUPS: Record<string, (word: string) => boolean> = { migrate: (w) => /^[a-z]+$/.test(w) }
/** provision's flags that take no value: any other flag's next word is its value, never a subcommand. */
const PROVISION_SWITCHES = new Set(['--json', '-q', '--quiet', '-v', '--verbose', '--no-color', '--local', '--stop', '--destroy', '--reset-from-parent', '--github-output', '-y', '--yes', '--dry-run'])

/** provision neon list (or the old provision list, flags anywhere) has its own schema; the others share provision's. */
function provisionList(after: string[]): boolean {
  const words: string[] = []
  for (let j = 0; j < after.length; j++) {
    const t = after[j]
    if (!t.startsWith('-')) words.push(t)
    else if (!t.includes('=') && !PROVISION_SWITCHES.has(t)) j++
  }
  return words[0] === 'list' || (words[0] === 'neon' && words[1] === 'list')
}

/** The schema file a command line's document follows, e.g. migrate-status.schema.json; error.schema.json for no command. */
export function schemaFor(args: string[]): string {
  const end = args.indexOf('--')
  const words = end < 0 ? args : args.slice(0, end)
  const i = words.findIndex((w) => COMMANDS.includes(w))
  if (i < 0) return 'error.schema.json'
  if (words[i] === 'provision') return provisionList(words.slice(i + 1)) ? 'provision-list.schema.json' : 'provision.schema.json'
  const sub = words[i + 1] !== undefined && GROUPS[words[i]]?.(words[i + 1]) ? `-${words[i + 1]}` : ''
  if (words[i] === 'migrate' && !sub) return 'error.schema.json'
  return `${words[i]}${sub}.schema.json`
}

const ID = 'https://todo-db.invalid/schemas/'

/** Why `stdout` is not exactly one document of the command's schema; undefined when it is. */
export function jsonContractViolation(args: string[], stdout: string): string | undefined {
  const file = schemaFor(args)
  let doc: unknown
  try {
    doc = JSON.parse(stdout)
  } catch (e) {
    return `stdout is not one JSON document (${(e as Error).message})`
  }
  const v = validator()
  // A misspelt subcommand (migrate upp) answers with the failure document; a new one needs its schema.
  const validate = v.getSchema(ID + file) ?? v.getSchema(ID + 'error.schema.json')!
  if (validate(doc)) return undefined
  const missing = v.getSchema(ID + file) ? '' : ` (there is no schemas/${file}: publish one for this command)`
  return `it does not follow schemas/${v.getSchema(ID + file) ? file : 'error.schema.json'}${missing}: ${v.errorsText(validate.errors, { separator: '; ' })}`
}
