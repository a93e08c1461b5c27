// kdebug drops: NetworkPolicy packet drops the gateway sees (JSON list), -w to
// keep watching over Server-Sent Events (openapi/drops.md).
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { Command, CommandContext } from '../command.ts'
import { bool, println, str } from '../command.ts'
import { oneOf, parseCount, parseDuration } from '../args.ts'
import { CliError, sanitize, UsageError } from '../errors.ts'
import { EXIT } from '../exit-codes.ts'
import { age, formatData, OUTPUT_FORMATS, type OutputFormat } from '../output.ts'

export interface DropView {
  id: string
  time: string | null
  namespace: string
  pod: string | null
  direction: string | null
  peer: string | null
  peerIP: string | null
  port: number | null
  protocol: string | null
  count: number
  source: string
  policies?: string[]
}

const HEADERS = ['LAST SEEN', 'NAMESPACE', 'POD', 'DIRECTION', 'PEER', 'PORT', 'COUNT', 'SOURCE']

export function dropCells (d: DropView, now: number): string[] {
  const port = d.port === null ? '' : `${d.port}${d.protocol ? `/${d.protocol}` : ''}`
  return [age(d.time, now) ?? '', d.namespace, d.pod ?? '', d.direction ?? '', d.peer ?? d.peerIP ?? '', port, String(d.count), d.source]
    .map(c => (c === '' ? '<none>' : sanitize(c)))
}

/** Rows printed as they come (a watch): columns widen as needed, never shrink. */
export class StreamingTable {
  readonly #widths: number[]
  constructor (headers: string[]) { this.#widths = headers.map(h => Math.max(h.length, 8)) }
  line (cells: string[]): string {
    return cells.map((c, i) => {
      this.#widths[i] = Math.max(this.#widths[i] ?? 0, c.length)
      return i === cells.length - 1 ? c : c.padEnd((this.#widths[i] ?? 0) + 3)
    }).join('') + '\n'
  }
}

/** Drops seen at or after `cutoff` (ms), oldest first; the gateway lists newest first. */
export function since (items: DropView[], cutoff: number | undefined): DropView[] {
  return items.filter(d => cutoff === undefined || (d.time !== null && Date.parse(d.time) >= cutoff)).reverse()
}

class Printer {
  readonly #ctx: CommandContext
  readonly #format: OutputFormat
  readonly #table = new StreamingTable(HEADERS)
  /** Drop id → the count last printed, so the list and the stream never print one state twice. */
  readonly #printed = new Map<string, number>()
  #count = 0
  constructor (ctx: CommandContext, format: OutputFormat) {
    this.#ctx = ctx
    this.#format = format
  }

  header (): void { if (this.#format === 'table') this.#ctx.io.stdout.write(this.#table.line(HEADERS)) }

  print (d: DropView): void {
    if ((this.#printed.get(d.id) ?? 0) >= d.count) return
    this.#printed.set(d.id, d.count)
    const out = this.#ctx.io.stdout
    if (this.#format === 'table') out.write(this.#table.line(dropCells(d, this.#ctx.now())))
    else if (this.#format === 'json') out.write(JSON.stringify(d) + '\n')
    else out.write((this.#count > 0 ? '---\n' : '') + formatData(d, 'yaml'))
    this.#count++
  }
}

export const dropsCommand: Command = {
  spec: {
    name: 'drops',
    summary: 'Show NetworkPolicy packet drops (-w to keep watching)',
    usage: 'drops [-n NS | -A] [-w] [--since D] [--pod P] [--direction ingress|egress] [--peer P] [--port N] [--protocol P] [-o table|json|yaml]',
    options: {
      'all-namespaces': { type: 'boolean', short: 'A', description: 'Every namespace where you may list and watch events.' },
      watch: { type: 'boolean', short: 'w', description: 'After the recent drops, keep printing new ones.' },
      since: { type: 'string', value: 'DURATION', description: 'Only recent drops seen within this, e.g. 15m.' },
      pod: { type: 'string', value: 'POD', description: 'Only this pod (globs * and ? allowed).' },
      direction: { type: 'string', value: 'DIR', description: 'ingress or egress.' },
      peer: { type: 'string', value: 'TEXT', description: 'Peer name or IP contains TEXT.' },
      port: { type: 'string', value: 'N', description: 'Destination port.' },
      protocol: { type: 'string', value: 'P', description: 'TCP, UDP, ICMP …' },
      limit: { type: 'string', value: 'N', description: 'At most N recent drops (default 100).' },
      output: { type: 'string', short: 'o', value: 'FORMAT', description: 'table (default), json (with -w: one object per line) or yaml.' }
    },
    positionals: { names: [], min: 0 },
    examples: [
      'kdebug drops -n demo --since 15m',
      'kdebug drops -A -w --direction egress',
      'kdebug drops -n payments -o json'
    ]
  },
  run: async (ctx) => {
    const format = oneOf(str(ctx, 'output') ?? 'table', OUTPUT_FORMATS, 'output')
    const all = bool(ctx, 'all-namespaces')
    if (all && ctx.explicitNamespace()) throw new UsageError('-A and -n exclude each other', 'drops')
    const sinceText = str(ctx, 'since')
    const cutoff = sinceText === undefined ? undefined : ctx.now() - parseDuration(sinceText, 'since') * 1000
    const direction = str(ctx, 'direction')
    const port = str(ctx, 'port')
    const limit = str(ctx, 'limit')
    const query = {
      pod: str(ctx, 'pod'),
      direction: direction === undefined ? undefined : oneOf(direction, ['ingress', 'egress'] as const, 'direction'),
      peer: str(ctx, 'peer'),
      port: port === undefined ? undefined : parseCount(port, 'port'),
      protocol: str(ctx, 'protocol')
    }
    const ns = all ? undefined : await ctx.namespace()
    const path = ns === undefined ? '/v1/drops' : `/v1/namespaces/${encodeURIComponent(ns)}/drops`
    const client = await ctx.client()
    const watch = bool(ctx, 'watch')

    // Watching: the stream opens first and buffers, so no drop falls between the list and the stream.
    const buffered: EventSourceMessage[] = []
    const sink: { deliver?: (m: EventSourceMessage) => void } = {}
    let ended: Promise<void> | undefined
    const abort = new AbortController()
    if (watch) {
      const res = await client.request('GET', path, { query, headers: { accept: 'text/event-stream' }, signal: abort.signal })
      const parser = createParser({ onEvent: (m) => { if (sink.deliver) sink.deliver(m); else buffered.push(m) } })
      ended = (async () => {
        const decoder = new TextDecoder()
        try {
          for await (const chunk of res.body ?? []) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }))
        } catch (err) {
          if (!abort.signal.aborted) throw err
        }
      })()
    }

    const list = await client.json<{ items: DropView[], watch: { healthy: boolean } }>('GET', path, { query: { ...query, limit: limit === undefined ? undefined : parseCount(limit, 'limit') } })
    if (!list.watch.healthy) println(ctx.io.stderr, 'Warning: the gateway\'s drop watch is reconnecting; the list may be stale.')
    const items = since(list.items, cutoff)
    if (!watch && format !== 'table') {
      ctx.io.stdout.write(formatData({ ...list, items: items.toReversed() }, format))
      return EXIT.ok
    }
    const printer = new Printer(ctx, format)
    if (items.length === 0 && !watch) {
      println(ctx.io.stderr, ns === undefined ? 'No drops found.' : `No drops found in ${ns} namespace.`)
      return EXIT.ok
    }
    printer.header()
    for (const d of items) printer.print(d)
    if (!watch || !ended) return EXIT.ok

    let outcome: CliError | undefined
    const onMessage = (m: EventSourceMessage): void => {
      if (outcome) return
      if (m.event === 'drop' || m.event === 'drop-update') printer.print(JSON.parse(m.data) as DropView)
      else if (m.event === 'reset') println(ctx.io.stderr, 'Warning: the gateway could not resume the stream; drops may have been missed.')
      else if (m.event === 'revoked') outcome = new CliError('your permission to watch drops in this namespace was withdrawn', EXIT.forbidden)
      else if (m.event === 'shutdown') outcome = new CliError('the gateway replica is shutting down; run the command again to reconnect', EXIT.unavailable)
      if (outcome) abort.abort()
    }
    for (const m of buffered.splice(0)) onMessage(m)
    sink.deliver = onMessage
    await ended
    if (outcome) throw outcome
    throw new CliError('the gateway ended the stream', EXIT.unavailable)
  }
}
