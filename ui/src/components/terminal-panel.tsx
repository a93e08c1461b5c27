// The open terminal: status line (connecting, exit code, lost connection
// with a Reconnect button) above xterm.js.
import { useEffect, useRef, useState } from 'preact/hooks'
import type { Api } from '../api.ts'
import { TerminalSession, type TerminalStatus } from '../terminal-session.ts'
import { background } from '../background.ts'

export interface TerminalSpec {
  /** Changes when a different terminal is opened. */
  key: string
  title: string
  attachUrl: string
  /** Node shells: closing the terminal deletes the session's pod. */
  deleteOnClose: boolean
  sessionId?: string
}

function statusText (s: TerminalStatus): string {
  switch (s.kind) {
    case 'connecting': return 'connecting…'
    case 'connected': return 'connected'
    case 'exited': return s.code === null ? 'the process ended' : `exited with code ${s.code}`
    case 'detached': return 'detached: the stream ended, the container still runs'
    case 'disconnected': return `disconnected: ${s.message}`
  }
}

export function TerminalPanel (props: { api: Api, spec: TerminalSpec, onClose: () => void, onEnded: () => void, register: (s: TerminalSession | null) => void }) {
  const host = useRef<HTMLDivElement>(null)
  const session = useRef<TerminalSession | null>(null)
  const [status, setStatus] = useState<TerminalStatus>({ kind: 'connecting' })

  useEffect(() => {
    if (!host.current) return
    const s = new TerminalSession({
      api: props.api,
      attachUrl: props.spec.attachUrl,
      element: host.current,
      onStatus: (st) => {
        setStatus(st)
        if (st.kind === 'exited' || st.kind === 'detached') props.onEnded()
      }
    })
    session.current = s
    props.register(s)
    background(s.connect())
    return () => { props.register(null); s.dispose() }
  }, [props.spec.key])

  const canReconnect = status.kind === 'disconnected' || status.kind === 'detached'
  return (
    <section class='panel terminal-panel' aria-label={`Terminal: ${props.spec.title}`}>
      <header class='panel-head'>
        <h2>{props.spec.title}</h2>
        <span class={`status ${status.kind}`} role='status' data-testid='terminal-status'>{statusText(status)}</span>
        <div class='actions'>
          {canReconnect && <button type='button' onClick={() => { background(session.current?.connect()) }}>Reconnect</button>}
          <button type='button' onClick={props.onClose}>{props.spec.deleteOnClose ? 'Close and delete pod' : 'Close'}</button>
        </div>
      </header>
      <div class='terminal' data-testid='terminal' ref={host} />
    </section>
  )
}
