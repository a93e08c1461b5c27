// Pods of the namespace with their containers and ephemeral containers (who
// and why for the gateway's own), a Debug button only where `allowed` permits.
import type { Pod, PodEphemeralContainer } from '../api.ts'
import { countdown } from '../format.ts'

export interface PodsPanelProps {
  namespace: string
  pods: Pod[] | null
  error: string
  canDebug: boolean
  now: number
  canAttach: (c: PodEphemeralContainer) => boolean
  onDebug: (pod: Pod) => void
  onAttach: (pod: Pod, c: PodEphemeralContainer) => void
  onRefresh: () => void
}

export function PodsPanel (props: PodsPanelProps) {
  return (
    <section class='panel pods-panel' aria-label='Pods'>
      <header class='panel-head'>
        <h2>Pods in {props.namespace}</h2>
        <button type='button' onClick={props.onRefresh}>Refresh</button>
      </header>
      {props.error && <p class='bad' role='alert'>{props.error}</p>}
      {props.pods === null && !props.error && <p class='empty'>Loading…</p>}
      {props.pods?.length === 0 && !props.error && <p class='empty'>No pods.</p>}
      <ul class='pods'>
        {props.pods?.map(pod => (
          <li key={pod.name} class='pod' data-testid={`pod-row-${pod.name}`}>
            <div class='line'>
              <strong class='name'>{pod.name}</strong>
              <span class={`state ${pod.phase.toLowerCase()}`}>{pod.phase}</span>
              {pod.node && <span class='small'>on {pod.node}</span>}
              {props.canDebug && (
                <button type='button' class='primary push' data-testid='debug-button' aria-label={`Debug ${pod.name}`} onClick={() => props.onDebug(pod)}>Debug</button>
              )}
            </div>
            <ul class='containers'>
              {pod.containers.map(c => (
                <li key={c.name}><span class='mono'>{c.name}</span> <span class='small'>{c.image}</span> <span class={`state ${c.state}`}>{c.state}</span></li>
              ))}
              {pod.ephemeralContainers.map(c => (
                <li key={c.name} class='ephemeral' data-testid={`ephemeral-${c.name}`}>
                  <span class='mono'>{c.name}</span> <span class='small'>{c.image}</span> <span class={`state ${c.state}`}>{c.state}</span>
                  {c.session && (
                    <span class='small'> · {c.session.verified ? c.session.requester : 'unverified'}{c.session.reason ? ` “${c.session.reason}”` : ''}
                      {c.session.expiresAt && c.state === 'running' ? ` · expires in ${countdown(c.session.expiresAt, props.now)}` : ''}
                    </span>
                  )}
                  {c.state === 'running' && props.canAttach(c) && (
                    <button type='button' class='small-button' aria-label={`Attach to ${c.name}`} onClick={() => props.onAttach(pod, c)}>Attach</button>
                  )}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </section>
  )
}
