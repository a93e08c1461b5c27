// Debug sessions the caller may see: expiry countdown, attach, playback of
// the recording, and End (ephemeral containers end when their process does;
// copies and node pods are deleted).
import type { Session } from '../api.ts'
import { countdown } from '../format.ts'

export interface SessionsPanelProps {
  sessions: Session[]
  error: string
  me: string
  now: number
  canAttach: (s: Session) => boolean
  onAttach: (s: Session) => void
  onEnd: (s: Session) => void
  onPlay: (s: Session) => void
}

const LIVE = new Set(['pending', 'waiting', 'running'])

export function SessionsPanel (props: SessionsPanelProps) {
  const sorted = props.sessions.slice().sort((a, b) => Number(b.requestedBy === props.me) - Number(a.requestedBy === props.me) || (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))
  return (
    <section class='panel sessions-panel' data-testid='sessions-panel' aria-label='Debug sessions'>
      <header class='panel-head'><h2>Sessions</h2></header>
      {props.error && <p class='bad' role='alert'>{props.error}</p>}
      {sorted.length === 0
        ? <p class='empty'>No debug sessions.</p>
        : (
          <ul class='sessions'>
            {sorted.map(s => {
              const live = LIVE.has(s.state)
              const left = countdown(s.expiresAt, props.now)
              return (
                <li key={s.id} class='session' data-testid={`session-row-${s.id}`}>
                  <div class='line'>
                    <strong>{s.kind === 'node' ? `node ${s.node ?? ''}` : `${s.namespace}/${s.pod}`}</strong>
                    {s.container && <span class='mono'>{s.container}</span>}
                    <span class={`state ${s.state}`} data-testid='session-state'>{s.state}{s.status?.exitCode !== undefined ? ` (${s.status.exitCode})` : ''}</span>
                  </div>
                  <div class='line small'>
                    <span>{s.requestedBy || 'unverified'}</span>
                    {s.reason && <span class='reason' title={s.reason}>“{s.reason}”</span>}
                    {left && live && <span class='expiry'>{left === 'expired' ? 'expired' : `expires in ${left}`}</span>}
                  </div>
                  <div class='actions'>
                    {live && props.canAttach(s) && <button type='button' onClick={() => props.onAttach(s)}>Attach</button>}
                    <button type='button' onClick={() => props.onPlay(s)}>Recording</button>
                    {(live || s.kind !== 'ephemeral') && props.canAttach(s) &&
                      <button type='button' class='danger' data-testid='end-session' onClick={() => props.onEnd(s)}>{s.kind === 'ephemeral' ? 'End' : 'Delete'}</button>}
                  </div>
                </li>
              )
            })}
          </ul>
          )}
    </section>
  )
}
