import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { formatSseComment, formatSseEvent, formatSseRetry } from '../../src/lib/sse.ts'
import { formatDropEntry } from '../../src/drops/hub.ts'
import { DropRingBuffer } from '../../src/drops/ring-buffer.ts'
import { makeDrop } from '../drops/fixtures.ts'

interface Dispatched { type: string, data: string, lastEventId: string }

// The event-stream interpretation algorithm of the WHATWG HTML standard,
// as a browser's EventSource applies it.
function parseStream (stream: string): { events: Dispatched[], retry: number | undefined } {
  const events: Dispatched[] = []
  let data = ''
  let type = ''
  let lastEventId = ''
  let retry: number | undefined
  for (const line of stream.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data !== '') events.push({ type: type === '' ? 'message' : type, data: data.slice(0, -1), lastEventId })
      data = ''
      type = ''
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') type = value
    else if (field === 'data') data += value + '\n'
    else if (field === 'id' && !value.includes('\0')) lastEventId = value
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value)
  }
  return { events, retry }
}

describe('formatSseEvent', () => {
  test('exact framing of a drop event', () => {
    assert.equal(
      formatSseEvent({ event: 'drop', id: 'r1-7', data: { a: 1 }, retry: 3000 }),
      'event: drop\nid: r1-7\nretry: 3000\ndata: {"a":1}\n\n'
    )
    assert.equal(formatSseEvent({ data: 'x' }), 'data: x\n\n')
  })

  test('round-trips through the EventSource algorithm, including leading spaces and colons', () => {
    const stream = formatSseEvent({ event: 'drop', id: 5, data: '{"message":"a: b"}' }) +
      formatSseComment('heartbeat') +
      formatSseEvent({ event: 'drop-update', id: 6, data: '  indented' })
    const { events } = parseStream(stream)
    assert.deepEqual(events, [
      { type: 'drop', data: '{"message":"a: b"}', lastEventId: '5' },
      { type: 'drop-update', data: '  indented', lastEventId: '6' }
    ])
  })

  test('multi-line data (LF, CRLF, CR) becomes several data: lines and arrives intact (as LF)', () => {
    const frame = formatSseEvent({ event: 'drop', data: 'one\ntwo\r\nthree\rfour' })
    assert.equal(frame, 'event: drop\ndata: one\ndata: two\ndata: three\ndata: four\n\n')
    assert.equal(parseStream(frame).events[0]?.data, 'one\ntwo\nthree\nfour')
  })

  test('data cannot inject fields or events', () => {
    const evil = 'x\n\nevent: shutdown\nid: 999\ndata: pwned\n\nretry: 1'
    const { events, retry } = parseStream(formatSseEvent({ event: 'drop', id: 1, data: evil }))
    assert.equal(events.length, 1)
    assert.equal(events[0]?.type, 'drop')
    assert.equal(events[0]?.lastEventId, '1')
    assert.equal(events[0]?.data, evil.replace(/\r\n|\r/g, '\n'))
    assert.equal(retry, undefined)
  })

  test('a raw message with line breaks inside JSON stays one event', () => {
    const frame = formatSseEvent({ event: 'drop', data: { message: 'a\nevent: reset\n\n' } })
    assert.equal(frame.split('\n').filter(l => l.startsWith('data:')).length, 1)
    assert.deepEqual(JSON.parse(parseStream(frame).events[0]?.data ?? ''), { message: 'a\nevent: reset\n\n' })
  })

  test('empty data still dispatches (signal events such as reset)', () => {
    assert.equal(formatSseEvent({ event: 'reset', data: '' }), 'event: reset\ndata: \n\n')
    assert.deepEqual(parseStream(formatSseEvent({ event: 'reset', data: '' })).events, [{ type: 'reset', data: '', lastEventId: '' }])
    assert.deepEqual(parseStream(formatSseEvent({ event: 'reset', data: undefined })).events.length, 1)
  })

  test('CR, LF or NUL in event names and ids throw', () => {
    for (const bad of ['drop\nevent: reset', 'drop\r', 'drop\r\ndata: x', 'a\0b']) {
      assert.throws(() => formatSseEvent({ event: bad, data: 'x' }), TypeError)
      assert.throws(() => formatSseEvent({ id: bad, data: 'x' }), TypeError)
    }
  })

  test('retry must be a non-negative integer', () => {
    assert.throws(() => formatSseEvent({ data: 'x', retry: -1 }), TypeError)
    assert.throws(() => formatSseEvent({ data: 'x', retry: 1.5 }), TypeError)
    assert.equal(formatSseRetry(2000), 'retry: 2000\n\n')
    assert.equal(parseStream(formatSseRetry(2000)).retry, 2000)
    assert.throws(() => formatSseRetry(Number.NaN), TypeError)
  })
})

describe('formatDropEntry', () => {
  test('frames a ring-buffer entry so the client can resume from its id', () => {
    const buf = new DropRingBuffer({ capacity: 4, epoch: 'e1' })
    const drop = makeDrop({ message: 'line1\nline2' })
    const entry = buf.push('drop-update', drop)
    const [ev] = parseStream(formatDropEntry(entry)).events
    assert.equal(ev?.type, 'drop-update')
    assert.equal(ev?.lastEventId, 'e1-1')
    assert.deepEqual(JSON.parse(ev?.data ?? ''), drop)
    assert.deepEqual(buf.since(ev?.lastEventId ?? ''), [])
  })
})

describe('formatSseComment', () => {
  test('plain and multi-line comments dispatch nothing', () => {
    assert.equal(formatSseComment('hb'), ': hb\n\n')
    assert.equal(formatSseComment(), ': \n\n')
    const sneaky = formatSseComment('ok\ndata: injected\nevent: x')
    assert.equal(sneaky, ': ok\n: data: injected\n: event: x\n\n')
    assert.deepEqual(parseStream(sneaky).events, [])
  })
})
