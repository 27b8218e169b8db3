// Deterministic ids: a function of (seed, kind, index) only, so the same options give the same ids
// on any database, and a seed's rows can be found again without remembering anything.
//
// Layout (a valid RFC 9562 version-4 UUID: the app's models, e.g. pydantic's UUID4, accept only v4):
//   SSSSSSSS-K000-4000-8000-IIIIIIIIIIII
//   S: the seed (32 bits), K: the kind, 4: the version, 8: the variant (10xx), I: the index (48 bits).
// Version 4 only asks for the version and variant bits; the other 122 bits need not be random.
// All rows of one seed and kind share the first 10 bytes, and PostgreSQL orders uuids bytewise, so
// `id between first and last` is exactly that seed's rows of that kind: an index range scan.
// The app's ids come from gen_random_uuid(): one falls inside a given seed's range only if 74
// random bits all match (about 1 in 10^22 per row), so the range is the seed's own rows.
//
// Before, seed ids were version 8 with the same layout (`-K000-8000-8000-`): databases seeded then
// hold rows in the legacy range, which a seed replaces with its version-4 rows (see seed.ts).
export const Kind = { user: 1, category: 2, todo: 3 } as const
export type KindName = keyof typeof Kind

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')

function prefix(seed: number, kind: KindName, version: 4 | 8 = 4): string {
  return `${hex(seed, 8)}-${Kind[kind]}000-${version}000-8000-`
}

/** Id generator for one seed and kind; the prefix is built once, not per row. */
export function idMaker(seed: number, kind: KindName): (index: number) => string {
  const p = prefix(seed, kind)
  return (index) => p + hex(index, 12)
}

/** First and last possible id of a seed's rows of one kind. */
export function idRange(seed: number, kind: KindName): [string, string] {
  const p = prefix(seed, kind)
  return [p + '000000000000', p + 'ffffffffffff']
}

/** The same for the version-8 ids of earlier releases of todo-db. */
export function legacyIdRange(seed: number, kind: KindName): [string, string] {
  const p = prefix(seed, kind, 8)
  return [p + '000000000000', p + 'ffffffffffff']
}

/**
 * A category's index: the user's index and the category's position under that user. It does not
 * depend on --categories, so a user's first category keeps its id when the count changes.
 */
export const CATEGORY_SLOTS = 2 ** 16
export const categoryIndex = (user: number, position: number) => user * CATEGORY_SLOTS + position
