// Interleaved A/B measurement (BENCH rule 1): baseline and gateway run
// alternately, A B A B …, at least 3 pairs, so drift in a noisy shared
// machine hits both sides alike; the result is the median per-pair ratio.
import { ratios } from './stats.ts'
import type { RatioSummary } from './stats.ts'

export interface PairsOptions<S> {
  pairs: number
  baseline: () => Promise<S>
  gateway: () => Promise<S>
  onPair?: (i: number, baseline: S, gateway: S) => void
}

export async function runPairs<S> (opts: PairsOptions<S>): Promise<{ baseline: S[], gateway: S[] }> {
  const baseline: S[] = []
  const gateway: S[] = []
  for (let i = 0; i < Math.max(3, opts.pairs); i++) {
    // Alternate which side goes first so neither always runs on a warmer machine.
    if (i % 2 === 0) {
      baseline.push(await opts.baseline())
      gateway.push(await opts.gateway())
    } else {
      gateway.push(await opts.gateway())
      baseline.push(await opts.baseline())
    }
    opts.onPair?.(i, baseline[i] as S, gateway[i] as S)
  }
  return { baseline, gateway }
}

/** Ratio summary of one numeric field across pairs. */
export function pairRatio<S> (res: { baseline: S[], gateway: S[] }, pick: (s: S) => number, higherIsBetter = true): RatioSummary {
  return ratios(res.gateway.map(pick), res.baseline.map(pick), higherIsBetter)
}
