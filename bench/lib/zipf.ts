// Zipf-distributed ranks (rest-cold: 1,000 users, a few very active, a long
// tail): P(k) ∝ 1 / k^s for k = 1..n, sampled by binary search in the CDF.

export function zipfCdf (n: number, s = 1): Float64Array {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('n must be a positive integer')
  const cdf = new Float64Array(n)
  let sum = 0
  for (let k = 1; k <= n; k++) {
    sum += 1 / k ** s
    cdf[k - 1] = sum
  }
  for (let i = 0; i < n; i++) cdf[i] = (cdf[i] as number) / sum
  return cdf
}

/** A sampler of ranks 1..n; `random` in [0, 1) (default Math.random). */
export function zipfSampler (n: number, s = 1, random: () => number = Math.random): () => number {
  const cdf = zipfCdf(n, s)
  return () => {
    const u = random()
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((cdf[mid] as number) > u) hi = mid
      else lo = mid + 1
    }
    return lo + 1
  }
}
