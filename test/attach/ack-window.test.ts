import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AckWindow } from '../../src/attach/relay/ack-window.ts'

function windowWithPings (windowBytes = 100, ackEveryBytes = 25): { w: AckWindow, pings: Buffer[] } {
  const pings: Buffer[] = []
  return { w: new AckWindow({ windowBytes, ackEveryBytes, ping: (p) => pings.push(p) }), pings }
}

test('the window closes after windowBytes unacknowledged and a pong reopens it up to its ping', () => {
  const { w, pings } = windowWithPings()
  for (let i = 0; i < 10; i++) w.sent(10)
  assert.equal(w.unacked, 100)
  assert.equal(w.open, false)
  assert.equal(pings.length, 3, 'a ping each time 25 bytes have gone since the last one: at 30, 60 and 90')
  assert.equal(w.pong(pings[1] as Buffer), true)
  assert.equal(w.unacked, 100 - 60)
  assert.equal(w.open, true)
})

test('a pong to a later ping acknowledges the earlier ones too (RFC 6455 §5.5.3)', () => {
  const { w, pings } = windowWithPings()
  for (let i = 0; i < 10; i++) w.sent(10)
  assert.equal(w.pong(pings[2] as Buffer), true)
  assert.equal(w.unacked, 10)
  assert.equal(w.pong(pings[0] as Buffer), false, 'an old pong moves nothing')
  assert.equal(w.unacked, 10)
})

test('pongs to other pings (keepalive, empty, foreign payloads) are not acknowledgements', () => {
  const { w } = windowWithPings()
  for (let i = 0; i < 10; i++) w.sent(10)
  for (const p of ['', 'kw', 'kwx', 'keepalive', 'kw99999999999999999999999']) assert.equal(w.pong(Buffer.from(p)), false, p)
  assert.equal(w.unacked, 100)
  assert.equal(w.open, false)
})

test('a pong always reopens a closed window: the newest outstanding ping lags the total by less than ackEveryBytes', () => {
  const { w, pings } = windowWithPings(100, 40)
  w.sent(150) // one big frame
  assert.equal(w.open, false)
  assert.equal(w.pong(pings.at(-1) as Buffer), true)
  assert.equal(w.open, true)
})

test('ackEveryBytes must be below windowBytes', () => {
  assert.throws(() => new AckWindow({ windowBytes: 10, ackEveryBytes: 10, ping: () => {} }), RangeError)
  assert.throws(() => new AckWindow({ windowBytes: 10, ackEveryBytes: 0, ping: () => {} }), RangeError)
})

function adaptiveWindow (o: { windowBytes?: number, ackEveryBytes?: number, maxWindowBytes?: number, targetDelayMs?: number } = {}): { w: AckWindow, pings: Buffer[], clock: { t: number } } {
  const pings: Buffer[] = []
  const clock = { t: 1000 }
  const w = new AckWindow({ windowBytes: o.windowBytes ?? 100, ackEveryBytes: o.ackEveryBytes ?? 25, maxWindowBytes: o.maxWindowBytes ?? 1600, targetDelayMs: o.targetDelayMs ?? 100, now: () => clock.t, ping: (p) => pings.push(p) })
  return { w, pings, clock }
}

/** Sends `bytes` in 25-byte frames and answers every ping at once, `msPerFrame` apart. */
function reader (a: ReturnType<typeof adaptiveWindow>, bytes: number, msPerFrame: number): void {
  for (let sent = 0; sent < bytes; sent += 25) {
    assert.ok(a.w.open, 'the reader keeps up, so the window stays open')
    a.w.sent(25)
    a.clock.t += msPerFrame
    const last = a.pings.at(-1)
    if (last) a.w.pong(last)
  }
}

test('an adaptive window grows to what the peer acknowledges in targetDelayMs, up to maxWindowBytes', () => {
  const a = adaptiveWindow()
  assert.equal(a.w.size, 100)
  // 25 bytes per ms acknowledged = 2,500 bytes per 100 ms: capped at 1,600.
  reader(a, 5000, 1)
  assert.equal(a.w.size, 1600)
  // Ten times slower: 250 bytes per 100 ms.
  reader(a, 5000, 10)
  assert.equal(a.w.size, 250)
})

test('a slow reader keeps the configured window', () => {
  const a = adaptiveWindow()
  reader(a, 2000, 200) // 25 bytes per 200 ms = 12.5 per 100 ms
  assert.equal(a.w.size, 100)
})

test('with the window limiting the rate, the acknowledged rate still grows it (the reader is not the bottleneck)', () => {
  const a = adaptiveWindow({ maxWindowBytes: 100_000 })
  // A peer that answers 5 ms after each window-full: the fixed window would cap it at 100 bytes per 5 ms.
  for (let round = 0; round < 60; round++) {
    while (a.w.open) a.w.sent(25)
    a.clock.t += 5
    a.w.pong(a.pings.at(-1) as Buffer)
  }
  assert.ok(a.w.size > 1000, `window ${a.w.size} did not grow with a peer that keeps up`)
})

test('a reader that reads in bursts is judged by its average rate, not by one burst', () => {
  const pings: Array<[Buffer, number]> = []
  let t = 0
  let sent = 0
  const w = new AckWindow({ windowBytes: 100, ackEveryBytes: 25, maxWindowBytes: 1600, targetDelayMs: 100, now: () => t, ping: (p) => pings.push([p, sent]) })
  // Every 50 ms the reader takes 150 or 50 bytes at once, in turn (2 bytes per ms on average, 200 per
  // 100 ms), and answers the pings it read past within the same millisecond; the sender fills the window.
  let read = 0
  for (let tick = 0; tick < 40; tick++) {
    while (w.open) { sent += 25; w.sent(25) }
    t += 49
    read = Math.min(sent, read + (tick % 2 === 0 ? 150 : 50))
    const answered = pings.filter(([, at]) => at <= read)
    if (answered.length > 1) w.pong((answered.at(-2) as [Buffer, number])[0])
    t += 1
    if (answered.length > 0) w.pong((answered.at(-1) as [Buffer, number])[0])
    assert.ok(w.size <= 250, `window ${w.size} after tick ${tick}: a burst taken for the rate`)
  }
})

test('time without output is not counted as slow reading', () => {
  const a = adaptiveWindow()
  reader(a, 5000, 1)
  assert.equal(a.w.size, 1600)
  a.clock.t += 60_000 // nothing to send for a minute
  reader(a, 200, 1)
  assert.equal(a.w.size, 1600)
})

test('without targetDelayMs the window is fixed; maxWindowBytes must not be below windowBytes', () => {
  const pings: Buffer[] = []
  let t = 0
  const w = new AckWindow({ windowBytes: 100, ackEveryBytes: 25, now: () => t, ping: (p) => pings.push(p) })
  for (let i = 0; i < 40; i++) { w.sent(25); t += 1; w.pong(pings.at(-1) as Buffer) }
  assert.equal(w.size, 100)
  assert.throws(() => new AckWindow({ windowBytes: 100, ackEveryBytes: 25, maxWindowBytes: 99, ping: () => {} }), RangeError)
})
