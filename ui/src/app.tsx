// The console: sign-in, then one namespace at a time — its pods (Debug where
// `allowed` permits), the open terminal, debug sessions and live drops.
// Every decision is the gateway's; the UI only hides what it would refuse.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { Api, ApiError, type Allowed, type DebugRequest, type Pod, type PodEphemeralContainer, type Session, type UiConfig, type Whoami } from './api.ts'
import { finishOidcSignIn, forgetToken, startOidcSignIn, storedToken, storeToken } from './auth.ts'
import { endWithEof, type TerminalSession } from './terminal-session.ts'
import { SignIn } from './components/sign-in.tsx'
import { PodsPanel } from './components/pods-panel.tsx'
import { DebugDialog } from './components/debug-dialog.tsx'
import { TerminalPanel, type TerminalSpec } from './components/terminal-panel.tsx'
import { SessionsPanel } from './components/sessions-panel.tsx'
import { DropsPanel } from './components/drops-panel.tsx'
import { PlaybackDialog } from './components/playback.tsx'
import { background } from './background.ts'
import { attachPath, startedAttachUrl } from './urls.ts'

const NAMESPACE_KEY = 'kdebug.namespace'
const REFRESH_MS = 10_000

function message (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function sessionContainer (s: Session): string {
  return s.container ?? 'debugger'
}

export function App () {
  const [config, setConfig] = useState<UiConfig | null>(null)
  const [token, setToken] = useState<string | null>(() => storedToken())
  const [signInError, setSignInError] = useState('')
  const [me, setMe] = useState<Whoami | null>(null)
  const [namespace, setNamespace] = useState<string>(() => sessionStorage.getItem(NAMESPACE_KEY) ?? '')
  const [allowed, setAllowed] = useState<Allowed | null>(null)
  const [pods, setPods] = useState<Pod[] | null>(null)
  const [podsError, setPodsError] = useState('')
  const [sessions, setSessions] = useState<Session[]>([])
  const [sessionsError, setSessionsError] = useState('')
  const [now, setNow] = useState(Date.now())
  const [notice, setNotice] = useState('')
  const [debugPod, setDebugPod] = useState<Pod | null>(null)
  const [nodeAllowed, setNodeAllowed] = useState<Allowed | null>(null)
  const [terminal, setTerminal] = useState<TerminalSpec | null>(null)
  const [playing, setPlaying] = useState<Session | null>(null)
  const [otherNs, setOtherNs] = useState('')
  const openSession = useRef<TerminalSession | null>(null)

  const api = useMemo(() => (token ? new Api(token) : null), [token])

  const signOut = useCallback((why = '') => {
    forgetToken()
    setToken(null)
    setMe(null)
    setAllowed(null)
    setTerminal(null)
    setSignInError(why)
  }, [])

  /** 401 anywhere: the token expired or was revoked — back to sign-in. */
  const failed = useCallback((err: unknown): string => {
    if (err instanceof ApiError && err.status === 401) signOut('Your sign-in is no longer valid: sign in again.')
    return message(err)
  }, [signOut])

  useEffect(() => {
    fetch('./config.json').then(async r => await r.json() as UiConfig).then(async (cfg) => {
      setConfig(cfg)
      if (cfg.oidc) {
        const idToken = await finishOidcSignIn(cfg.oidc)
        if (idToken) { storeToken(idToken); setToken(idToken) }
      }
    }).catch((err: unknown) => { setSignInError(message(err)) })
  }, [])

  useEffect(() => {
    if (!api) return
    api.whoami().then(w => { setMe(w); setSignInError('') }, (err: unknown) => {
      signOut(err instanceof ApiError && err.status === 401 ? 'The gateway did not accept this token.' : message(err))
    })
  }, [api])

  useEffect(() => {
    if (!namespace && config) setNamespace(config.namespaces[0] ?? 'default')
  }, [config])

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(t)
  }, [])

  // The namespace on screen: an answer that arrives after the user switched away (answers can
  // come back out of order) must not replace the new namespace's pods or permissions.
  const shownNamespace = useRef(namespace)
  shownNamespace.current = namespace
  const refresh = useCallback(async () => {
    if (!api || !namespace) return
    const current = (): boolean => shownNamespace.current === namespace
    await Promise.all([
      api.whoami(namespace).then(w => { if (current()) setAllowed(w.allowed ?? null) }, (err: unknown) => { if (current()) setAllowed(null); failed(err) }),
      api.pods(namespace).then(p => { if (current()) { setPods(p.items); setPodsError('') } }, (err: unknown) => { if (current()) { setPods([]); setPodsError(failed(err)) } }),
      api.sessions().then(s => { setSessions(s); setSessionsError('') }, (err: unknown) => setSessionsError(failed(err)))
    ])
  }, [api, namespace])

  useEffect(() => {
    if (!me || !namespace) return
    sessionStorage.setItem(NAMESPACE_KEY, namespace)
    setPods(null)
    background(refresh())
    const t = setInterval(() => { background(refresh()) }, REFRESH_MS)
    return () => clearInterval(t)
  }, [me, namespace, refresh])

  // A node shell's pod must not outlive the tab: delete it when the page goes away.
  useEffect(() => {
    if (!terminal?.deleteOnClose || !terminal.sessionId || !token) return
    const id = terminal.sessionId
    const ns = config?.nodeDebugNamespace ?? ''
    const onHide = (): void => {
      background(fetch(`/v1/sessions/${encodeURIComponent(id)}?namespace=${encodeURIComponent(ns)}`, { method: 'DELETE', keepalive: true, headers: { authorization: `Bearer ${token}` } }))
    }
    addEventListener('pagehide', onHide)
    return () => removeEventListener('pagehide', onHide)
  }, [terminal, token])

  if (!config) return <main class='sign-in'><p role='status'>{signInError || 'Loading…'}</p></main>
  if (!api || !me) {
    return (
      <SignIn
        config={config} error={signInError}
        onToken={(t) => { storeToken(t); setToken(t) }}
        onOidc={() => { if (config.oidc) startOidcSignIn(config.oidc).catch((err: unknown) => setSignInError(message(err))) }}
      />
    )
  }

  const namespaces = [...new Set([...config.namespaces, namespace].filter(Boolean))]
  const canDebug = !!allowed && allowed.rule !== null && allowed.actions.includes('ephemeral') && allowed.images.length > 0
  const mayAttach = (requester: string | undefined): boolean =>
    !!allowed && allowed.actions.includes('attach') && (requester === me.user || allowed.attachOthers)
  const canNodeShell = !!allowed && allowed.nodeDebug && me.can?.node !== false

  const openTerminal = (spec: Omit<TerminalSpec, 'key'>): void => {
    if (terminal?.deleteOnClose) background(closeTerminal())
    setTerminal({ ...spec, key: `${Date.now()}-${Math.random()}` })
  }

  const closeTerminal = async (): Promise<void> => {
    const t = terminal
    setTerminal(null)
    if (t?.deleteOnClose && t.sessionId) {
      try {
        await api.deleteSession({ id: t.sessionId, namespace: config.nodeDebugNamespace })
        setNotice(`Node shell closed; its pod was deleted (session ${t.sessionId}).`)
      } catch (err) {
        setNotice(`Could not delete the node shell's pod: ${failed(err)}`)
      }
      background(refresh())
    }
  }

  const startEphemeral = async (pod: Pod, req: DebugRequest, where: { target?: string }): Promise<void> => {
    const res = await api.createEphemeral(namespace, pod.name, { ...req, ...(where.target ? { target: where.target } : {}) })
    const s = res.session
    if (s.state === 'image-pull-failed' || s.state === 'terminated') throw new Error(`The debug container is ${s.state}${s.status?.message ? `: ${s.status.message}` : ''}`)
    setDebugPod(null)
    const container = sessionContainer(s)
    openTerminal({ title: `${pod.name} / ${container}`, attachUrl: startedAttachUrl(namespace, pod.name, container, res.attach?.url, s.state === 'running', location.href), deleteOnClose: false, sessionId: s.id })
    setNotice(`Started ${container} in ${namespace}/${pod.name}.`)
    background(refresh())
  }

  const startNodeShell = async (req: DebugRequest, where: { node?: string }): Promise<void> => {
    const res = await api.createNodePod(where.node ?? '', req)
    const s = res.session
    if (s.state === 'image-pull-failed' || s.state === 'terminated') throw new Error(`The node debug pod is ${s.state}${s.status?.message ? `: ${s.status.message}` : ''}`)
    setNodeAllowed(null)
    const container = sessionContainer(s)
    openTerminal({ title: `node ${where.node ?? ''}`, attachUrl: startedAttachUrl(s.namespace, s.pod, container, res.attach?.url, s.state === 'running', location.href), deleteOnClose: true, sessionId: s.id })
    background(refresh())
  }

  const openNodeDialog = (): void => {
    api.whoami(config.nodeDebugNamespace).then(w => {
      if (!w.allowed?.nodeDebug) { setNotice('Node debugging is not allowed for you.'); return }
      setNodeAllowed(w.allowed)
    }, (err: unknown) => setNotice(failed(err)))
  }

  const attachSession = (s: Session): void => {
    const container = sessionContainer(s)
    openTerminal({ title: `${s.pod} / ${container}`, attachUrl: attachPath(s.namespace, s.pod, container), deleteOnClose: false, sessionId: s.id })
  }

  const endSession = async (s: Session): Promise<void> => {
    try {
      if (s.kind !== 'ephemeral') {
        await api.deleteSession(s)
        if (terminal?.sessionId === s.id) setTerminal(null)
        setNotice(`Deleted ${s.namespace}/${s.pod}.`)
      } else if (terminal?.sessionId === s.id && openSession.current) {
        // Its terminal is open: end the shell there, so the exit code shows where the user looks.
        openSession.current.sendEof()
        setNotice(`Ending ${s.container ?? s.id}…`)
      } else {
        const code = await endWithEof(api, attachPath(s.namespace, s.pod, sessionContainer(s)))
        setNotice(`${s.container ?? s.id} ended${code === null ? '' : ` with exit code ${code}`}.`)
      }
    } catch (err) {
      setNotice(`Could not end ${s.id}: ${failed(err)}`)
    }
    setTimeout(() => { background(refresh()) }, 500)
  }

  const nodes = [...new Set((pods ?? []).map(p => p.node).filter((n): n is string => !!n))]

  return (
    <div class='app'>
      <header class='top'>
        <h1>kdebug</h1>
        <label class='ns'>Namespace
          <select data-testid='namespace-select' value={namespace} onChange={(e) => setNamespace(e.currentTarget.value)}>
            {namespaces.map(n => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
        <form class='ns-other' onSubmit={(e) => { e.preventDefault(); if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(otherNs)) { setNamespace(otherNs); setOtherNs('') } }}>
          <label>Other namespace <input value={otherNs} size={10} placeholder='other…' aria-label='Other namespace' pattern='[a-z0-9]([-a-z0-9]*[a-z0-9])?' onInput={(e) => setOtherNs(e.currentTarget.value)} /></label>
          <button type='submit'>Go</button>
        </form>
        {canNodeShell && <button type='button' data-testid='node-shell-button' onClick={openNodeDialog}>Node shell</button>}
        <span class='me' title={me.groups.join(', ')}>{me.user}{allowed?.rule ? ` · ${allowed.rule}` : allowed ? ' · view only' : ''}</span>
        <button type='button' onClick={() => signOut()}>Sign out</button>
      </header>
      <p class='notice' role='status' aria-live='polite'>{notice}</p>
      <main class='grid'>
        <PodsPanel
          namespace={namespace} pods={pods} error={podsError} canDebug={canDebug} now={now}
          canAttach={(c: PodEphemeralContainer) => mayAttach(c.session?.requester)}
          onDebug={setDebugPod}
          onAttach={(pod, c) => openTerminal({ title: `${pod.name} / ${c.name}`, attachUrl: attachPath(namespace, pod.name, c.name), deleteOnClose: false, ...(c.session ? { sessionId: c.session.id } : {}) })}
          onRefresh={() => { background(refresh()) }}
        />
        {terminal
          ? <TerminalPanel api={api} spec={terminal} onClose={() => { background(closeTerminal()) }} onEnded={() => { background(refresh()) }} register={(s) => { openSession.current = s }} />
          : <section class='panel terminal-panel placeholder' aria-label='Terminal'><p class='empty'>Start a debug container or attach to a session to open a terminal here.</p></section>}
        <SessionsPanel
          sessions={sessions} error={sessionsError} me={me.user} now={now}
          canAttach={(s) => mayAttach(s.requestedBy)}
          onAttach={attachSession}
          onEnd={(s) => { background(endSession(s)) }}
          onPlay={setPlaying}
        />
        <DropsPanel key={namespace} api={api} namespace={namespace} />
      </main>
      {debugPod && allowed && (
        <DebugDialog
          title={`Debug ${namespace}/${debugPod.name}`} allowed={allowed} targets={debugPod.containers.map(c => c.name)}
          onStart={async (req, where) => { await startEphemeral(debugPod, req, where) }} onClose={() => setDebugPod(null)}
        />
      )}
      {nodeAllowed && (
        <DebugDialog
          title='Node shell' allowed={nodeAllowed} nodes={nodes.length > 0 ? nodes : ['']} defaultProfile='sysadmin'
          onStart={startNodeShell} onClose={() => setNodeAllowed(null)}
        />
      )}
      {playing && <PlaybackDialog api={api} session={playing} onClose={() => setPlaying(null)} />}
    </div>
  )
}
