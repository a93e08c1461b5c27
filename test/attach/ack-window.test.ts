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
