// Playback of a session's attach recording (asciicast v2) with asciinema-player.
import { useEffect, useRef, useState } from 'preact/hooks'
import type { Player } from 'asciinema-player'
import { ApiError, type Api, type Session } from '../api.ts'
import { Modal } from './dialog.tsx'

export function PlaybackDialog (props: { api: Api, session: Session, onClose: () => void }) {
  const host = useRef<HTMLDivElement>(null)
  const [message, setMessage] = useState('loading…')

  useEffect(() => {
    let player: Player | undefined
    let cancelled = false
    Promise.all([props.api.recording(props.session), import('asciinema-player')]).then(([cast, AsciinemaPlayer]) => {
      if (cancelled || !host.current) return
      setMessage('')
      player = AsciinemaPlayer.create({ data: cast }, host.current, { fit: 'width', idleTimeLimit: 2, controls: true, autoPlay: true })
    }, (err: Error) => {
      setMessage(err instanceof ApiError && err.status === 404 ? 'No recording of this session.' : err.message)
    })
    return () => { cancelled = true; player?.dispose() }
  }, [props.session.id])

  return (
    <Modal title={`Recording of ${props.session.pod}${props.session.container ? `/${props.session.container}` : ''}`} onClose={props.onClose} wide testid='playback'>
      {message && <p role='status'>{message}</p>}
      <div class='player' ref={host} />
    </Modal>
  )
}
