// `npm run bench -- --compare`: this run's table against the one BENCHMARKS.md holds from the last
// full run. Ratios against the baseline are compared where a row has one (both servers ran on the
// same noisy machine in the same invocation, so the ratio is the steady figure); rows without a
// baseline compare their medians, and say so. A change for the worse of more than `tolerance`
// (10%) is flagged.

export interface TableRow {
  scenario: string
  figure: string
  /** The Secure Chat median. */
  median: number | null
  ratio: number | null
}

export interface Comparison {
  key: string
  what: 'ratio' | 'median'
  previous: number
  current: number
  /** > 0: worse by that fraction. */
  worseBy: number
  flagged: boolean
}

const number = (cell: string): number | null => {
  const match = /^-?[\d,]*\.?\d+/.exec(cell.trim())
  return match === null ? null : Number(match[0].replace(/,/g, ''))
}

/** The rows of the first results table in `markdown` (the format bench/run.ts writes); a blank scenario cell repeats the one above. */
export function parseTable (markdown: string): TableRow[] {
  const rows: TableRow[] = []
  let scenario = ''
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| scenario ') || line.startsWith('|---')) continue
    const cells = line.split('|').slice(1, -1).map((c) => c.trim())
    if (cells.length < 5) continue
    if (cells[0] !== '') scenario = cells[0]!
    rows.push({ scenario, figure: cells[1]!, median: number(cells[2]!), ratio: cells[4]!.endsWith('×') ? number(cells[4]!) : null })
  }
  return rows
}

/** True when a bigger figure is better (throughput), false when smaller is (times, memory, CPU, losses). */
export function higherIsBetter (figure: string): boolean {
  if (/lost|refused|\(ms\)|\(µs\)|\(KB\)|cpu|p50|p99|max/i.test(figure)) return false
  return /\/s\b|per sec/i.test(figure)
}

export function compareTables (previous: TableRow[], current: TableRow[], tolerance = 0.1): Comparison[] {
  const before = new Map(previous.map((r) => [`${r.scenario} — ${r.figure}`, r]))
  const out: Comparison[] = []
  for (const row of current) {
    const key = `${row.scenario} — ${row.figure}`
    const old = before.get(key)
    if (old === undefined) continue
    const what = row.ratio !== null && old.ratio !== null ? 'ratio' : 'median'
    const prev = what === 'ratio' ? old.ratio : old.median
    const cur = what === 'ratio' ? row.ratio : row.median
    if (prev === null || cur === null) continue
    const up = higherIsBetter(row.figure)
    // A figure that was 0 (lost deliveries) got worse by any amount above it.
    const worseBy = prev === 0 ? (cur === 0 ? 0 : (up ? 0 : Infinity)) : (up ? (prev - cur) / prev : (cur - prev) / prev)
    out.push({ key, what, previous: prev, current: cur, worseBy, flagged: worseBy > tolerance })
  }
  return out
}

export function describeComparison (list: Comparison[], tolerance = 0.1): string {
  if (list.length === 0) return 'compare: no figure of this run matches one in BENCHMARKS.md (different scenarios or sizes)'
  const flagged = list.filter((c) => c.flagged)
  const lines = [`compare: ${list.length} figures against BENCHMARKS.md; ${flagged.length} worse by more than ${Math.round(tolerance * 100)}%`]
  for (const c of flagged) {
    const by = Number.isFinite(c.worseBy) ? `${(c.worseBy * 100).toFixed(0)}% worse` : 'was 0'
    lines.push(`  REGRESSION ${c.key}: ${c.what} ${c.previous} → ${c.current} (${by}${c.what === 'median' ? '; an absolute figure, noisier than a ratio' : ''})`)
  }
  return lines.join('\n')
}
