// Latency recording in microseconds with an HDR histogram (BENCH rule 7).
import hdr from 'hdr-histogram-js'

export interface LatencySummary {
  count: number
  meanUs: number
  p50Us: number
  p90Us: number
  p99Us: number
  p999Us: number
  maxUs: number
}

export interface LatencyRecorder {
  /** Records the time since `startNs` (from process.hrtime.bigint()). */
  since (startNs: bigint): void
  recordUs (us: number): void
  summary (): LatencySummary
  reset (): void
}

export function latencyRecorder (): LatencyRecorder {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 })
  const rec: LatencyRecorder = {
    since: (startNs) => rec.recordUs(Number(process.hrtime.bigint() - startNs) / 1000),
    recordUs: (us) => { h.recordValue(Math.max(1, Math.round(us))) },
    summary: () => ({
      count: h.totalCount,
      meanUs: h.mean,
      p50Us: h.getValueAtPercentile(50),
      p90Us: h.getValueAtPercentile(90),
      p99Us: h.getValueAtPercentile(99),
      p999Us: h.getValueAtPercentile(99.9),
      maxUs: h.maxValue
    }),
    reset: () => h.reset()
  }
  return rec
}
