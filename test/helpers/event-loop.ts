// Waiting on the event loop instead of the wall clock. A test that needs
// "what is already queued has run" (socket data delivered, a setImmediate
// producer stepped) counts loop turns: a loaded machine makes them slower but
// cannot make fewer of them happen, as it can with a fixed sleep.
import { setImmediate as nextTurn } from 'node:timers/promises'

/** Lets the event loop go round `n` times (each turn polls I/O once and runs the check phase). */
export async function loopTurns (n: number): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn()
}
