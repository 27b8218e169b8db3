// --expires-in: when Neon deletes a preview branch by itself (the API's expires_at), so that a
// forgotten one cleans itself up.
import { badInput } from '../errors.js'

const EXPIRY_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }

/** `--expires-in 7d` (also 12h, 90m, 2w) as the moment Neon should delete the branch. */
export function parseExpiresIn(value: string, now = Date.now()): Date {
  const m = /^(\d+)\s*(m|h|d|w)$/i.exec(value.trim())
  if (!m || Number(m[1]) === 0) throw badInput(`--expires-in: "${value}" is not a duration`, 'use e.g. 90m, 12h, 7d or 2w', 'USAGE')
  return new Date(now + Number(m[1]) * EXPIRY_UNITS[m[2].toLowerCase()])
}
