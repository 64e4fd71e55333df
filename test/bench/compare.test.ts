// The regression guard of `npm run bench -- --compare`, on tables in the format bench/run.ts writes.
import { describe, expect, it } from 'vitest'
import { compareTables, describeComparison, higherIsBetter, parseTable } from '../../bench/compare.js'

const previous = `
| scenario | figure | Secure Chat | baseline (bare ws) | Secure Chat / baseline | target | |
|---|---|---|---|---|---|---|
| fan-out (100 subs, 4 senders) | deliveries/s | 227,361 (218,168–232,191) | 151,341 (150,833–152,074) | 1.50× | ≥ 0.8× baseline | **met** |
|  | delivery p99 (ms) | 3.22 (3.04–3.46) | 5.53 (5.39–5.67) | 0.58× |  |  |
|  | lost deliveries (sum of acked messages not delivered) | 0 (0–0) | 0 (0–0) | — | 0 | **met** |
| history (1,000,000 msgs, 10 conns) | newest page, pages/s (50 msgs, decrypted) | 2,623 (2,617–2,629) | — | — | ≥ 2,000 pages/s | **met** |
`
const table = (deliveriesRatio: string, p99Ratio: string, lost: string, pages: string): string => `
| scenario | figure | Secure Chat | baseline (bare ws) | Secure Chat / baseline | target | |
|---|---|---|---|---|---|---|
| fan-out (100 subs, 4 senders) | deliveries/s | 200,000 | 150,000 | ${deliveriesRatio} | | |
|  | delivery p99 (ms) | 3.0 | 5.0 | ${p99Ratio} |  |  |
|  | lost deliveries (sum of acked messages not delivered) | ${lost} | 0 | — | 0 | |
| history (1,000,000 msgs, 10 conns) | newest page, pages/s (50 msgs, decrypted) | ${pages} | — | — | | |
`

describe('bench --compare', () => {
  it('reads the table, carrying the scenario down and the median and ratio out of each row', () => {
    const rows = parseTable(previous)
    expect(rows).toHaveLength(4)
    expect(rows[1]).toEqual({ scenario: 'fan-out (100 subs, 4 senders)', figure: 'delivery p99 (ms)', median: 3.22, ratio: 0.58 })
    expect(rows[0]!.median).toBe(227361)
    expect(rows[3]!.ratio).toBeNull()
  })

  it('knows which way is better', () => {
    expect(higherIsBetter('deliveries/s')).toBe(true)
    expect(higherIsBetter('newest page, pages/s (50 msgs, decrypted)')).toBe(true)
    expect(higherIsBetter('delivery p99 (ms)')).toBe(false)
    expect(higherIsBetter('logins refused /s (503 busy, 429)')).toBe(false)
    expect(higherIsBetter('RSS per socket (KB)')).toBe(false)
    expect(higherIsBetter('message_updated deliveries/s; ratio = updates / new messages')).toBe(true)
    expect(higherIsBetter('new-message deliveries/s in the same runs')).toBe(true)
    expect(higherIsBetter('lost deliveries (sum of answered changes not delivered)')).toBe(false)
  })

  it('passes a run within 10% and flags each figure that got worse by more', () => {
    const same = compareTables(parseTable(previous), parseTable(table('1.40×', '0.62×', '0', '2,400')))
    expect(same.filter((c) => c.flagged)).toEqual([])
    expect(same.map((c) => c.what)).toEqual(['ratio', 'ratio', 'median', 'median'])

    const worse = compareTables(parseTable(previous), parseTable(table('1.30×', '0.70×', '3', '2,000')))
    expect(worse.filter((c) => c.flagged).map((c) => c.key)).toEqual([
      'fan-out (100 subs, 4 senders) — deliveries/s',
      'fan-out (100 subs, 4 senders) — delivery p99 (ms)',
      'fan-out (100 subs, 4 senders) — lost deliveries (sum of acked messages not delivered)',
      'history (1,000,000 msgs, 10 conns) — newest page, pages/s (50 msgs, decrypted)'
    ])
    expect(describeComparison(worse)).toMatch(/4 worse by more than 10%[\s\S]*REGRESSION .*deliveries\/s: ratio 1\.5 → 1\.3 \(13% worse\)/)
  })

  it('an improvement is never a regression, and unmatched rows are left out', () => {
    const better = compareTables(parseTable(previous), parseTable(table('2.00×', '0.30×', '0', '5,000')))
    expect(better.every((c) => !c.flagged && c.worseBy <= 0)).toBe(true)
    expect(compareTables(parseTable(previous), [{ scenario: 'other', figure: 'x/s', median: 1, ratio: null }])).toEqual([])
  })
})
