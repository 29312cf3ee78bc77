/** Edit distance, for "did you mean" hints on names users type. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]!
}

/** Up to three known names close to `name`, closest first. */
export function closeMatches(name: string, known: Iterable<string>): Array<string> {
  const lower = name.toLowerCase()
  return [...known]
    .map((k) => ({ k, d: editDistance(lower, k.toLowerCase()) }))
    .filter(
      ({ k, d }) =>
        d <= Math.max(2, Math.floor(k.length / 3)) ||
        k.toLowerCase().includes(lower) ||
        (k.length >= 2 && lower.startsWith(k.toLowerCase()))
    )
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))
    .slice(0, 3)
    .map(({ k }) => k)
}

/** "did you mean X?" or "". */
export const didYouMean = (name: string, known: Iterable<string>): string => {
  const m = closeMatches(name, known)
  return m.length === 0 ? "" : `did you mean ${m.map((x) => `"${x}"`).join(" or ")}?`
}
