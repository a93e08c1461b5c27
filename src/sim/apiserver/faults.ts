// Fault injection for tests: latency, a share of error answers, dropped
// watches, a forced 410 on the next watch, refused connections.
import type { StatusError } from '../apimachinery/status.ts'
import { internalError, serviceUnavailable, tooManyRequests } from '../apimachinery/status.ts'

export interface FaultConfig {
  /** Added before every API answer (ms). */
  latencyMs: number
  /** Share (0..1) of requests answered with one of `errorCodes` instead. */
  errorRate: number
  errorCodes: number[]
  /** Only requests whose path starts with this are affected by latency/errors ('' = all). */
  pathPrefix: string
  /** Close every watch after this many events (0 = never). */
  dropWatchAfterEvents: number
  /** The next watch gets 410 Expired (`http`: before the stream starts; `event`: as an ERROR event). */
  expireNextWatch: false | 'http' | 'event'
  /** Close the connection of every API request at once (kept-alive ones too); /__sim/ stays reachable. */
  refuseConnections: boolean
}

export const defaultFaults = (): FaultConfig => ({
  latencyMs: 0,
  errorRate: 0,
  errorCodes: [500, 503, 429],
  pathPrefix: '',
  dropWatchAfterEvents: 0,
  expireNextWatch: false,
  refuseConnections: false
})

export class FaultController {
  #config: FaultConfig
  readonly #random: () => number

  constructor (initial: Partial<FaultConfig> = {}, random: () => number = Math.random) {
    this.#config = { ...defaultFaults(), ...initial }
    this.#random = random
  }

  get config (): Readonly<FaultConfig> { return { ...this.#config } }

  set (partial: Partial<FaultConfig>): FaultConfig {
    this.#config = { ...this.#config, ...sanitize(partial) }
    return this.config
  }

  reset (): FaultConfig {
    this.#config = defaultFaults()
    return this.config
  }

  applies (path: string): boolean {
    return path.startsWith(this.#config.pathPrefix)
  }

  latencyFor (path: string): number {
    return this.applies(path) ? this.#config.latencyMs : 0
  }

  /** An error to answer instead of serving the request, or undefined. */
  errorFor (path: string): StatusError | undefined {
    const c = this.#config
    if (c.errorRate <= 0 || c.errorCodes.length === 0 || !this.applies(path)) return undefined
    if (this.#random() >= c.errorRate) return undefined
    const code = c.errorCodes[Math.floor(this.#random() * c.errorCodes.length)] ?? 500
    if (code === 429) return tooManyRequests()
    if (code === 503) return serviceUnavailable()
    return internalError('injected fault')
  }

  /** Consumes the one-shot 410. */
  takeExpireNextWatch (): false | 'http' | 'event' {
    const v = this.#config.expireNextWatch
    this.#config.expireNextWatch = false
    return v
  }
}

/** Accepts only known keys with the right types (the admin endpoint takes JSON from the wire). */
export function sanitize (input: unknown): Partial<FaultConfig> {
  const out: Partial<FaultConfig> = {}
  if (!input || typeof input !== 'object') return out
  const i = input as Record<string, unknown>
  const num = (v: unknown): number | undefined => typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined
  if (num(i.latencyMs) !== undefined) out.latencyMs = num(i.latencyMs)
  if (num(i.errorRate) !== undefined) out.errorRate = Math.min(1, num(i.errorRate) ?? 0)
  if (Array.isArray(i.errorCodes)) out.errorCodes = i.errorCodes.filter((c): c is number => c === 500 || c === 503 || c === 429)
  if (typeof i.pathPrefix === 'string') out.pathPrefix = i.pathPrefix
  if (num(i.dropWatchAfterEvents) !== undefined) out.dropWatchAfterEvents = Math.floor(num(i.dropWatchAfterEvents) ?? 0)
  if (i.expireNextWatch === false || i.expireNextWatch === 'http' || i.expireNextWatch === 'event') out.expireNextWatch = i.expireNextWatch
  if (i.expireNextWatch === true) out.expireNextWatch = 'http'
  if (typeof i.refuseConnections === 'boolean') out.refuseConnections = i.refuseConnections
  return out
}
