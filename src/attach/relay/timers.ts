// The relay's time source and timers, injectable so tests step time instead of sleeping.
export type TimerHandle = unknown

export interface RelayTimers {
  now: () => number
  /** One-shot; must not keep the process alive. */
  setTimeout: (fn: () => void, ms: number) => TimerHandle
  /** Repeating; must not keep the process alive. */
  setInterval: (fn: () => void, ms: number) => TimerHandle
  clear: (handle: TimerHandle) => void
}

export const realTimers: RelayTimers = {
  now: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clear: (handle) => { clearTimeout(handle as NodeJS.Timeout) }
}
