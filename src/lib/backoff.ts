// Waiting between attempts at a failing upstream (the drops watch, the session
// ledgers' watch): capped exponential backoff with full jitter, and a sleep that
// a shutdown cuts short.

/** Full jitter (AWS architecture blog): a uniform delay up to the capped exponential. */
export function backoffDelay (attempt: number, backoff: { initialMs: number, maxMs: number }, random: () => number): number {
  const cap = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempt - 1))
  return Math.floor(random() * cap)
}

export async function abortableSleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return
  await new Promise<void>(resolve => {
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
