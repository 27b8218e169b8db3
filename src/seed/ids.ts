// Deterministic ids: a function of (seed, kind, index) only, so the same options give the same ids
// on any database, and a seed's rows can be found again without remembering anything.
//
// Layout (a valid RFC 9562 version-8 "custom" UUID):
//   SSSSSSSS-K000-8000-8000-IIIIIIIIIIII
//   S: the seed (32 bits), K: the kind, 8: version and variant, I: the index (48 bits).
// All rows of one seed and kind share the first 10 bytes, and PostgreSQL orders uuids bytewise, so
// `id between first and last` is exactly that seed's rows of that kind: an index range scan.
// The app's ids come from gen_random_uuid() (version 4) and can never fall inside such a range,
// so deleting a seed's range never touches a row someone created by hand.

export const Kind = { user: 1, category: 2, todo: 3 } as const
export type KindName = keyof typeof Kind

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')

function prefix(seed: number, kind: KindName): string {
  return `${hex(seed, 8)}-${Kind[kind]}000-8000-8000-`
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

/**
 * A category's index: the user's index and the category's position under that user. It does not
 * depend on --categories, so a user's first category keeps its id when the count changes.
 */
export const CATEGORY_SLOTS = 2 ** 16
export const categoryIndex = (user: number, position: number) => user * CATEGORY_SLOTS + position
