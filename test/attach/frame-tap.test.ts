// The upstream frame tap (src/attach/relay/frame-tap.ts) against a socket this test feeds read by
// read: which frames are cut through, and that cut and ws-bound bytes together are the stream
// exactly as it came, in order, wherever the reads split it.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { FrameTap, type FrameSink } from '../../src/attach/relay/frame-tap.ts'
import { Op, channelWsFrame, wsFrame } from '../helpers/ws-frames.ts'

class FakeSocket extends EventEmitter {
  paused = false
  readonly written: Buffer[] = []
  pause (): this { this.paused = true; return this }
  resume (): this { this.paused = false; return this }
  write (b: Buffer, cb?: () => void): boolean { this.written.push(b); cb?.(); return true }
  cork (): void {}
  uncork (): void {}
  end (cb?: () => void): void { cb?.() }
  destroy (): void {}
  setTimeout (): void {}
  setNoDelay (): void {}
  setKeepAlive (): void {}
}

const HEAD = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')
const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff))

/** The stream a v5 attach upstream might send, and which of its frames a channel client's sink takes. */
function script (): { stream: Buffer, frames: Buffer[], taken: Buffer[] } {
  const big = channelWsFrame(1, bytes(70_000, 1)) // 64-bit length
  const mid = channelWsFrame(2, bytes(300, 2)) // 16-bit length
  const small = channelWsFrame(1, 'hi') // 7-bit length
  const after = channelWsFrame(1, 'after')
  const frames = [
    channelWsFrame(1, Buffer.alloc(0)), // the readiness frame: 1 byte, never taken
    big,
    wsFrame(Op.ping, Buffer.from('p')),
    mid,
    small,
    // A fragmented message (with a ping between its fragments) stays with ws.
    wsFrame(Op.binary, Buffer.from([1, 97, 98]), { fin: false }),
    wsFrame(Op.ping, Buffer.alloc(0)),
    wsFrame(Op.continuation, Buffer.from('cd')),
    after,
    channelWsFrame(3, '{"status":"Success"}'),
    wsFrame(Op.close, Buffer.from([0x03, 0xe8]))
  ]
  return { stream: Buffer.concat([HEAD, ...frames]), frames, taken: [big, mid, small, after] }
}

interface Run { tap: FrameTap, sock: FakeSocket, events: Array<{ kind: 'ws' | 'cut', data: Buffer }>, takes: Array<[number, number]> }

async function tapWith (o: { take?: (ch: number, n: number) => boolean, sink?: boolean, maxPayload?: number } = {}): Promise<Run> {
  const sock = new FakeSocket()
  const tap = new FrameTap(() => sock as unknown as Socket, { maxPayload: o.maxPayload ?? 1 << 20 })
  const events: Run['events'] = []
  const takes: Run['takes'] = []
  tap.on('data', (b: Buffer) => events.push({ kind: 'ws', data: Buffer.from(b) }))
  await new Promise(resolve => setImmediate(resolve))
  const sink: FrameSink = {
    take: (ch, n) => { takes.push([ch, n]); return o.take ? o.take(ch, n) : ch === 1 || ch === 2 },
    frame: (header, payload, ch, n, done) => {
      const data = Buffer.concat([header, ...payload])
      done()
      assert.equal(data.length - header.length, n, 'payloadLength is the payload')
      assert.equal(payload[0]?.[0], ch, 'the channel is the first payload byte')
      events.push({ kind: 'cut', data })
    }
  }
  if (o.sink !== false) tap.cutThrough(sink)
  return { tap, sock, events, takes }
}

const feed = (r: Run, chunks: Buffer[]): void => { for (const c of chunks) r.sock.emit('data', c) }
const joined = (r: Run): Buffer => Buffer.concat(r.events.map(e => e.data))
const cut = (r: Run): Buffer[] => r.events.filter(e => e.kind === 'cut').map(e => e.data)

describe('frame tap', () => {
  test('one read: stdout/stderr frames are cut whole, everything else reaches ws unchanged and in order', async () => {
    const { stream, taken } = script()
    const r = await tapWith()
    feed(r, [stream])
    assert.deepEqual(joined(r), stream)
    assert.deepEqual(cut(r), taken)
    assert.deepEqual(r.events.slice(0, 2), [{ kind: 'ws', data: HEAD }, { kind: 'ws', data: channelWsFrame(1, Buffer.alloc(0)) }], 'the response head, then ws\'s frames as runs of the read')
  })

  test('split into two reads at every byte position (headers, 16- and 64-bit lengths, payloads)', async () => {
    const { stream, taken } = script()
    for (let k = 1; k < stream.length; k++) {
      const r = await tapWith()
      feed(r, [stream.subarray(0, k), stream.subarray(k)])
      assert.ok(joined(r).equals(stream), `split at ${k}: the stream is intact and in order`)
      const got = cut(r)
      assert.equal(got.length, taken.length, `split at ${k}: every output frame is cut`)
      for (let i = 0; i < got.length; i++) assert.ok((got[i] as Buffer).equals(taken[i] as Buffer), `split at ${k}: frame ${i}`)
    }
  })

  test('one byte per read', async () => {
    const { stream, taken } = script()
    const r = await tapWith()
    feed(r, Array.from(stream, b => Buffer.from([b])))
    assert.ok(joined(r).equals(stream))
    assert.deepEqual(cut(r), taken)
  })

  test('the sink is asked with the channel and length; a frame it refuses goes to ws', async () => {
    const { stream } = script()
    const r = await tapWith({ take: () => false })
    feed(r, [stream])
    assert.ok(joined(r).equals(stream))
    assert.equal(cut(r).length, 0)
    assert.deepEqual(r.takes, [[1, 70_001], [2, 301], [1, 3], [1, 6], [3, 21]])
  })

  test('before cutThrough() every frame goes to ws (early messages are ws\'s)', async () => {
    const { stream } = script()
    const r = await tapWith({ sink: false })
    feed(r, [stream])
    assert.ok(joined(r).equals(stream))
    assert.equal(cut(r).length, 0)
  })

  test('frames longer than maxPayload are left to ws (which refuses them with 1009)', async () => {
    const { stream } = script()
    const r = await tapWith({ maxPayload: 1000 })
    feed(r, [stream])
    assert.ok(joined(r).equals(stream))
    assert.equal(cut(r).length, 3, 'the 70,001-byte frame went to ws')
  })

  for (const [what, bad] of [
    ['a masked server frame', channelWsFrame(1, 'x', { mask: true })],
    ['a reserved bit without an extension', channelWsFrame(1, 'x', { rsv: 4 })],
    ['an unknown opcode', wsFrame(3, Buffer.from('x'))],
    ['a fragmented control frame', wsFrame(Op.ping, Buffer.from('x'), { fin: false })]
  ] as const) {
    test(`${what}: from there on every byte goes to ws unparsed (ws fails the connection)`, async () => {
      const before = channelWsFrame(1, 'before')
      const later = channelWsFrame(1, 'later')
      const stream = Buffer.concat([HEAD, before, bad, later])
      for (const k of [HEAD.length + before.length + 1, stream.length]) {
        const r = await tapWith()
        feed(r, [stream.subarray(0, k), stream.subarray(k)])
        assert.ok(joined(r).equals(stream))
        assert.deepEqual(cut(r), [before], 'nothing after the malformed frame is cut')
      }
    })
  }

  test('a refused handshake (not 101) is passed through untouched', async () => {
    const body = Buffer.concat([Buffer.from('HTTP/1.1 403 Forbidden\r\ncontent-length: 9\r\n\r\n'), channelWsFrame(1, 'xx')])
    const r = await tapWith()
    feed(r, [body])
    assert.ok(joined(r).equals(body))
    assert.equal(cut(r).length, 0)
  })

  test('pause() pauses the socket under it; a frame behind bytes ws has not read yet is not cut', async () => {
    const r = await tapWith()
    feed(r, [HEAD])
    r.tap.pause()
    assert.equal(r.sock.paused, true)
    const ping = wsFrame(Op.ping, Buffer.from('p'))
    const out = channelWsFrame(1, 'out')
    feed(r, [ping, out])
    assert.equal(cut(r).length, 0, 'the ping still waits in the tap for ws: the output frame must follow it there')
    r.tap.resume()
    assert.equal(r.sock.paused, false)
    await new Promise(resolve => setImmediate(resolve))
    assert.ok(joined(r).equals(Buffer.concat([HEAD, ping, out])))
    feed(r, [out])
    assert.deepEqual(cut(r), [out], 'with nothing pending, output is cut again')
  })

  test('writes from ws go to the socket', async () => {
    const r = await tapWith()
    r.tap.write(Buffer.from('abc'))
    r.tap.cork()
    r.tap.write(Buffer.from('d'))
    r.tap.write(Buffer.from('e'))
    r.tap.uncork()
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(Buffer.concat(r.sock.written).toString(), 'abcde')
  })
})
