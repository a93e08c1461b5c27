// Small statistics helpers: every figure we publish is a ratio against a
// baseline from the same run, summarised as median with min/max over pairs.

export function median (xs: number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

export interface RatioSummary {
  median: number
  min: number
  max: number
  ratios: number[]
}

/** Per-pair ratios gateway/baseline (or baseline/gateway when lower is better). */
export function ratios (gateway: number[], baseline: number[], higherIsBetter = true): RatioSummary {
  const rs = gateway.map((g, i) => {
    const b = baseline[i] as number
    return higherIsBetter ? g / b : b / g
  })
  return { median: median(rs), min: Math.min(...rs), max: Math.max(...rs), ratios: rs }
}

export function round (x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x
  const f = 10 ** digits
  return Math.round(x * f) / f
}
