import { test } from 'node:test'
import assert from 'node:assert/strict'
import { zipfCdf, zipfSampler } from '../../bench/lib/zipf.ts'

test('the CDF rises to 1 and rank 1 holds 1/H(n) of the mass for s = 1', () => {
  const cdf = zipfCdf(4)
  const h = 1 + 1 / 2 + 1 / 3 + 1 / 4
  assert.ok(Math.abs((cdf[0] as number) - 1 / h) < 1e-12)
  assert.ok(Math.abs((cdf[3] as number) - 1) < 1e-12)
  for (let i = 1; i < cdf.length; i++) assert.ok((cdf[i] as number) > (cdf[i - 1] as number))
})

test('the sampler maps the unit interval onto ranks by the CDF', () => {
  const cdf = zipfCdf(4)
  const at = (u: number): number => zipfSampler(4, 1, () => u)()
  assert.equal(at(0), 1)
  assert.equal(at((cdf[0] as number) - 1e-9), 1)
  assert.equal(at(cdf[0] as number), 2)
  assert.equal(at((cdf[2] as number) + 1e-9), 4)
  assert.equal(at(0.999999999), 4)
})

test('sampled frequencies follow 1/k (seeded)', () => {
  let x = 12345
  const rand = (): number => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648 }
  const sample = zipfSampler(1000, 1, rand)
  const counts = new Map<number, number>()
  const n = 200_000
  for (let i = 0; i < n; i++) { const k = sample(); counts.set(k, (counts.get(k) ?? 0) + 1) }
  const share1 = (counts.get(1) ?? 0) / n
  const share2 = (counts.get(2) ?? 0) / n
  assert.ok(Math.abs(share1 - 0.1336) < 0.01, `rank 1 share ${share1}`) // 1 / H(1000) ≈ 0.1336
  assert.ok(Math.abs(share1 / share2 - 2) < 0.2, `rank 1 / rank 2 = ${share1 / share2}`)
  assert.ok([...counts.keys()].every((k) => k >= 1 && k <= 1000))
})

test('rejects a non-positive n', () => {
  assert.throws(() => zipfCdf(0), RangeError)
})
