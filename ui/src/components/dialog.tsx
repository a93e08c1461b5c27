// A modal on the native <dialog>: the browser traps focus, Escape cancels,
// and focus returns to the opener when it closes.
import type { ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'

export function Modal (props: { title: string, onClose: () => void, children: ComponentChildren, wide?: boolean, testid?: string }) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const d = ref.current
    if (d && !d.open) d.showModal()
    // The first field, not the close button the browser would pick.
    d?.querySelector<HTMLElement>('[data-autofocus]')?.focus()
    return () => { if (d?.open) d.close() }
  }, [])
  return (
    <dialog
      ref={ref} class={props.wide ? 'modal wide' : 'modal'} aria-label={props.title} data-testid={props.testid}
      onClose={() => { props.onClose() }}
    >
      <header class='modal-head'>
        <h2>{props.title}</h2>
        <button type='button' class='icon' aria-label='Close' onClick={() => ref.current?.close()}>×</button>
      </header>
      {props.children}
    </dialog>
  )
}
