// Live packet drops of the namespace, with filters and history on connect.
import { useEffect, useState } from 'preact/hooks'
import type { Api, Drop } from '../api.ts'
import { DropsStream, type DropsStatus } from '../drops-stream.ts'
import type { DropFilters } from '../urls.ts'
import { clock, dropSummary } from '../format.ts'

const MAX_DROPS = 200

export function DropsPanel (props: { api: Api, namespace: string }) {
  const [filters, setFilters] = useState<DropFilters>({ direction: '', protocol: '', pod: '', since: '10m' })
  const [drops, setDrops] = useState<Drop[]>([])
  const [status, setStatus] = useState<{ s: DropsStatus, message?: string }>({ s: 'connecting' })

  useEffect(() => {
    setDrops([])
    const stream = new DropsStream({
      api: props.api,
      namespace: props.namespace,
      filters,
      onDrop: (drop, update) => {
        setDrops(list => {
          const i = list.findIndex(d => d.id === drop.id)
          if (i >= 0) { const next = list.slice(); next[i] = drop; return next }
          if (update) return list
          return [drop, ...list].slice(0, MAX_DROPS)
        })
      },
      onStatus: (s, message) => setStatus({ s, ...(message ? { message } : {}) })
    })
    return () => stream.close()
  }, [props.api, props.namespace, filters.direction, filters.protocol, filters.pod, filters.since])

  const set = (k: keyof DropFilters) => (e: Event) => setFilters({ ...filters, [k]: (e.currentTarget as HTMLInputElement).value })
  return (
    <section class='panel drops-panel' data-testid='drops-panel' aria-label='Packet drops'>
      <header class='panel-head'>
        <h2>Packet drops in {props.namespace}</h2>
        <span class={`status ${status.s}`} role='status'>{status.s}{status.message ? `: ${status.message}` : ''}</span>
      </header>
      <form class='filters' onSubmit={(e) => e.preventDefault()}>
        <label>Direction
          <select value={filters.direction} onChange={set('direction')}>
            <option value=''>any</option><option value='ingress'>ingress</option><option value='egress'>egress</option>
          </select>
        </label>
        <label>Protocol <input value={filters.protocol} placeholder='TCP' size={6} onChange={set('protocol')} /></label>
        <label>Pod <input value={filters.pod} placeholder='web*' size={8} onChange={set('pod')} /></label>
        <label>History
          <select value={filters.since} onChange={set('since')}>
            <option value=''>none</option><option value='10m'>10 min</option><option value='1h'>1 hour</option>
          </select>
        </label>
      </form>
      {drops.length === 0
        ? <p class='empty'>No drops{filters.since ? ` in the last ${filters.since}` : ''} yet.</p>
        : (
          <ul class='drops' aria-live='polite'>
            {drops.map(d => (
              <li key={d.id} class={`drop ${d.direction ?? ''}`} data-testid='drop'>
                <time>{clock(d.time)}</time>
                <span class='what'>{dropSummary(d)}</span>
                {d.count > 1 && <span class='badge'>×{d.count}</span>}
                {d.policies.length > 0 && <span class='policies'>{d.policies.join(', ')}</span>}
              </li>
            ))}
          </ul>
          )}
    </section>
  )
}
