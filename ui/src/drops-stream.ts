// The live drops of one namespace as Server-Sent Events (openapi/drops.md).
// EventSource cannot send Authorization, so each (re)connect takes a fresh
// single-use ticket; EventSource's own retry would replay a used ticket, so
// on error the stream is closed and reopened here, resuming after the last
// event id (`lastEventId`, as the Last-Event-ID header would).
import type { Api, Drop } from './api.ts'
import { dropsQuery, type DropFilters } from './urls.ts'
import { background } from './background.ts'

export type DropsStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped'

export interface DropsStreamOptions {
  api: Api
  namespace: string
  filters: DropFilters
  onDrop: (drop: Drop, update: boolean) => void
  onStatus: (status: DropsStatus, message?: string) => void
  /** Delay before reconnecting (ms). */
  retryMs?: number
}

export class DropsStream {
  readonly #o: DropsStreamOptions
  #es: EventSource | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #lastEventId: string | undefined
  #stopped = false

  constructor (opts: DropsStreamOptions) {
    this.#o = opts
    background(this.#open())
  }

  get #path (): string {
    return `/v1/namespaces/${encodeURIComponent(this.#o.namespace)}/drops`
  }

  async #open (): Promise<void> {
    if (this.#stopped) return
    this.#o.onStatus(this.#lastEventId ? 'reconnecting' : 'connecting')
    let ticket: string
    try {
      ticket = await this.#o.api.ticket(this.#path)
    } catch (err) {
      this.#o.onStatus('stopped', (err as Error).message)
      return
    }
    if (this.#stopped) return
    const q = dropsQuery(this.#o.filters, this.#lastEventId)
    q.set('ticket', ticket)
    const es = new EventSource(`${this.#path}?${q.toString()}`)
    this.#es = es
    const onEvent = (update: boolean) => (e: MessageEvent) => {
      if (e.lastEventId) this.#lastEventId = e.lastEventId
      this.#o.onDrop(JSON.parse(e.data as string) as Drop, update)
    }
    es.addEventListener('drop', onEvent(false))
    es.addEventListener('drop-update', onEvent(true))
    es.addEventListener('revoked', () => { this.#stop('access to this namespace\'s drops was revoked') })
    es.onopen = () => { this.#o.onStatus('live') }
    es.onerror = () => {
      es.close()
      if (this.#es !== es || this.#stopped) return
      this.#o.onStatus('reconnecting')
      this.#timer = setTimeout(() => { background(this.#open()) }, this.#o.retryMs ?? 3000)
    }
  }

  #stop (message?: string): void {
    this.close()
    this.#o.onStatus('stopped', message)
  }

  close (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#es?.close()
  }
}
