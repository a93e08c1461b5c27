// The debug form, filled from whoami's `allowed`: only the images, profiles,
// capabilities and TTLs the matching policy rule permits are offered, and a
// reason is required when the rule requires one. The gateway decides again.
import { useMemo, useState } from 'preact/hooks'
import type { Allowed, DebugRequest } from '../api.ts'
import { allowedRepositories, checkImage, suggestImages } from '../images.ts'
import { Modal } from './dialog.tsx'
import { background } from '../background.ts'

export interface DebugDialogProps {
  title: string
  allowed: Allowed
  /** Ephemeral containers: the pod's containers, for --target. */
  targets?: string[]
  /** Node shells: nodes to suggest. */
  nodes?: string[]
  defaultProfile?: string
  onStart: (request: DebugRequest, where: { target?: string, node?: string }) => Promise<void>
  onClose: () => void
}

export function DebugDialog (props: DebugDialogProps) {
  const { allowed } = props
  const suggestions = useMemo(() => suggestImages(allowed.images), [allowed.images])
  const profileDefault = props.defaultProfile && allowed.profiles.includes(props.defaultProfile)
    ? props.defaultProfile
    : allowed.profiles.includes('general') ? 'general' : allowed.profiles[0] ?? ''
  const [image, setImage] = useState(suggestions[0] ?? '')
  const [target, setTarget] = useState(props.targets?.[0] ?? '')
  const [node, setNode] = useState(props.nodes?.[0] ?? '')
  const [profile, setProfile] = useState(profileDefault)
  const [caps, setCaps] = useState<string[]>([])
  const [ttlMinutes, setTtlMinutes] = useState(Math.max(1, Math.round(allowed.ttl.defaultSeconds / 60)))
  const [reason, setReason] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const maxMinutes = Math.max(1, Math.floor(allowed.ttl.maxSeconds / 60))
  const full = allowed.sessions.used >= allowed.sessions.limit
  const imageCheck = image.trim() === '' ? null : checkImage(image, allowed.images)

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    if (imageCheck === null || !imageCheck.ok) { setError(imageCheck?.message ?? 'choose an image'); return }
    if (allowed.reasonRequired && reason.trim() === '') { setError('a reason is required'); return }
    if (props.nodes && node.trim() === '') { setError('choose a node'); return }
    const request: DebugRequest = { image: image.trim(), stdin: true, tty: true, wait: 30, ttlSeconds: ttlMinutes * 60 }
    if (profile) request.profile = profile
    if (caps.length > 0) request.capabilities = { add: caps }
    if (reason.trim()) request.reason = reason.trim()
    setBusy(true)
    setError('')
    try {
      await props.onStart(request, props.nodes ? { node: node.trim() } : target ? { target } : {})
    } catch (err) {
      setError((err as Error).message)
    } finally {
      setBusy(false)
    }
  }

  return (
    <Modal title={props.title} onClose={props.onClose} testid='debug-dialog'>
      <form class='form' onSubmit={(e) => { background(submit(e)) }}>
        <p class='hint'>
          Rule <strong>{allowed.rule}</strong> · sessions {allowed.sessions.used}/{allowed.sessions.limit}
          {full ? ' — at your limit: end a session first' : ''}
        </p>
        {props.nodes && (
          <label>Node
            <input name='node' list='node-options' value={node} required autocomplete='off' data-autofocus onInput={(e) => setNode(e.currentTarget.value)} />
            <datalist id='node-options'>{props.nodes.map(n => <option key={n} value={n} />)}</datalist>
          </label>
        )}
        <label>Image
          <input
            data-testid='image-input' name='image' list='image-options' value={image} required autocomplete='off' spellcheck={false} data-autofocus={props.nodes ? undefined : true}
            aria-invalid={imageCheck !== null && !imageCheck.ok} aria-describedby='image-help'
            onInput={(e) => setImage(e.currentTarget.value)}
          />
          <datalist id='image-options'>{suggestions.map(s => <option key={s} value={s} />)}</datalist>
          <small id='image-help' class={imageCheck && !imageCheck.ok ? 'bad' : 'hint'} title={allowed.images.join('\n')}>
            {imageCheck && !imageCheck.ok ? imageCheck.message : `Allowed: ${allowedRepositories(allowed.images).join(', ')}`}
          </small>
        </label>
        {props.targets && props.targets.length > 0 && (
          <label>Target container (shares its processes)
            <select name='target' value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
              {props.targets.map(t => <option key={t} value={t}>{t}</option>)}
              <option value=''>(none)</option>
            </select>
          </label>
        )}
        {allowed.profiles.length > 0 && (
          <label>Profile
            <select name='profile' value={profile} onChange={(e) => setProfile(e.currentTarget.value)}>
              {allowed.profiles.map(p => <option key={p} value={p}>{p}</option>)}
            </select>
          </label>
        )}
        {allowed.capabilities.length > 0 && (
          <fieldset>
            <legend>Add capabilities</legend>
            {allowed.capabilities.map(c => (
              <label key={c} class='check'>
                <input
                  type='checkbox' name='capability' value={c} checked={caps.includes(c)}
                  onChange={(e) => setCaps(e.currentTarget.checked ? [...caps, c] : caps.filter(x => x !== c))}
                />{c}
              </label>
            ))}
          </fieldset>
        )}
        <label>Lifetime (minutes, at most {maxMinutes})
          <input
            name='ttl' type='number' min={1} max={maxMinutes} value={ttlMinutes} required
            onInput={(e) => setTtlMinutes(Number(e.currentTarget.value))}
          />
        </label>
        <label>Reason{allowed.reasonRequired ? ' (required)' : ''}
          <input
            data-testid='reason-input' name='reason' value={reason} required={allowed.reasonRequired} maxLength={1024}
            placeholder='what are you looking for?' onInput={(e) => setReason(e.currentTarget.value)}
          />
        </label>
        {error && <p role='alert' class='bad'>{error}</p>}
        <div class='actions'>
          <button type='button' onClick={props.onClose}>Cancel</button>
          <button data-testid='start-debug' type='submit' class='primary' disabled={busy || full}>{busy ? 'Starting…' : 'Start'}</button>
        </div>
      </form>
    </Modal>
  )
}
