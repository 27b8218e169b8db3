// The spellings of `provision` from before it had subcommands, rewritten into today's shape so that
// commander, not hand-written rules, decides what goes together:
//   provision --local [--stop|--destroy]  ->  provision local start|stop|destroy
//   provision --delete-branch NAME        ->  provision neon delete-branch NAME
//   provision list                        ->  provision neon list
//   provision [--project X --branch Y]    ->  provision neon [--project X --branch Y]
// Every other token is handed on as it is, so a flag the subcommand does not take is refused by it.

export type Rewritten = { argv: string[] } | { unknownCommand: string } | { help: true }

/**
 * tokens: what followed `provision` (global options already taken out by commander).
 * takesValue: whether a flag of the subcommands reads the next token as its value.
 */
export function rewriteLegacyProvision(tokens: string[], takesValue: (flag: string) => boolean): Rewritten {
  // Split into items (a flag with its value, or a word) so that a value is never read as a flag.
  type Item = { flag: string; tokens: string[]; value?: string } | { word: string; tokens: string[] }
  const items: Item[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (t === '--') {
      items.push({ word: t, tokens: tokens.slice(i) })
      break
    }
    if (!t.startsWith('-') || t === '-') {
      items.push({ word: t, tokens: [t] })
      continue
    }
    const eq = t.indexOf('=')
    if (eq > 0) {
      items.push({ flag: t.slice(0, eq), value: t.slice(eq + 1), tokens: [t] })
    } else if ((t === '--delete-branch' || takesValue(t)) && i + 1 < tokens.length) {
      items.push({ flag: t, value: tokens[i + 1], tokens: [t, tokens[++i]] })
    } else {
      items.push({ flag: t, tokens: [t] })
    }
  }

  const take = (pick: (item: Item) => boolean): Item | undefined => {
    const i = items.findIndex(pick)
    return i < 0 ? undefined : items.splice(i, 1)[0]
  }
  const isFlag = (name: string) => (item: Item) => 'flag' in item && item.flag === name
  const rest = () => items.flatMap((item) => item.tokens)

  // --help alone is provision's own; with anything else, the help of what that spelling means.
  const isHelp = (item: Item) => 'flag' in item && (item.flag === '--help' || item.flag === '-h')
  if (items.length > 0 && items.every(isHelp)) return { help: true }

  const word = items.find((item): item is Item & { word: string } => 'word' in item && item.word !== '--')
  if (word) {
    if (word.word !== 'list') return { unknownCommand: word.word }
    take((item) => item === word)
    return { argv: ['neon', 'list', ...rest()] }
  }
  if (take(isFlag('--local'))) {
    // The first of --stop/--destroy is the action; a second is left for commander to refuse.
    const action = take((item) => isFlag('--stop')(item) || isFlag('--destroy')(item))
    return { argv: ['local', action && 'flag' in action ? action.flag.slice(2) : 'start', ...rest()] }
  }
  const del = take((item) => isFlag('--delete-branch')(item) && 'value' in item && item.value !== undefined)
  if (del && 'value' in del) return { argv: ['neon', 'delete-branch', del.value!, ...rest()] }
  return { argv: ['neon', ...rest()] }
}
