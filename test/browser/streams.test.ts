// Real browsers: headless Chromium (Debian's, via playwright-core) uses a
// stream ticket for EventSource (drops) and for a WebSocket (attach), since
// neither can send an Authorization header.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import { startStack, type Stack } from '../helpers/stack.ts'
import { createShellPod } from '../helpers/attach-stack.ts'

const CHROMIUM = '/usr/bin/chromium'
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian package chromium); browser tests skipped`

const PAGE = `<!doctype html><meta charset="utf-8"><title>kdebug test portal</title>
<script>
window.ticketFor = async (token, url) => {
  const res = await fetch('/v1/stream-tickets', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
    body: JSON.stringify({ url })
  })
  return (await res.json()).ticket
}
window.drops = []
window.watchDrops = async (token) => {
  const url = '/v1/namespaces/demo/drops'
  const ticket = await window.ticketFor(token, url)
  const es = new EventSource(url + '?ticket=' + encodeURIComponent(ticket))
  es.addEventListener('drop', (e) => window.drops.push({ id: e.lastEventId, drop: JSON.parse(e.data) }))
  await new Promise((resolve, reject) => { es.onopen = resolve; es.onerror = reject })
}
window.attachEcho = async (token, pod, line) => {
  const url = '/v1/namespaces/demo/pods/' + pod + '/attach?container=sh&tty=false&stdin=true'
  const ticket = await window.ticketFor(token, url)
  const ws = new WebSocket('ws://' + location.host + url + '&ticket=' + encodeURIComponent(ticket), ['kdebug.v1'])
  ws.binaryType = 'arraybuffer'
  let out = ''
  return await new Promise((resolve, reject) => {
    ws.onmessage = (e) => {
      if (typeof e.data === 'string') {
        const m = JSON.parse(e.data)
        if (m.type === 'ready') ws.send(new TextEncoder().encode(line + '\\nexit 0\\n'))
        if (m.type === 'error') reject(new Error(m.message))
        return
      }
      out += new TextDecoder().decode(e.data)
    }
    ws.onclose = () => resolve(out)
    ws.onerror = () => reject(new Error('websocket error'))
  })
}
</script>`

let stack: Stack
let browser: Browser | undefined

before(async () => {
  if (skip) return
  stack = await startStack({
    extend: (app) => { app.get('/portal', { config: { auth: false }, schema: { hide: true } }, async (_req, reply) => reply.type('text/html').send(PAGE)) }
  })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
})

after(async () => {
  if (skip) return
  await browser?.close()
  await stack?.close()
})

test('EventSource with a stream ticket receives demo drops, never payments', { skip }, async () => {
  const page = await browser!.newPage()
  await page.goto(`${stack.url}/portal`)
  await page.evaluate(async () => { await (globalThis as unknown as { watchDrops: (t: string) => Promise<void> }).watchDrops('alice-token') })
  await stack.sim.drops.tailer({ namespace: 'payments', pod: 'ledger', direction: 'receive', peer: 'demo', peerIP: '10.244.1.9', port: 5432 })
  await stack.sim.drops.tailer({ namespace: 'demo', pod: 'web', direction: 'send', peer: 'payments', peerIP: '10.244.2.7', port: 5432 })
  await page.waitForFunction(() => (globalThis as unknown as { drops: unknown[] }).drops.length >= 1, undefined, { timeout: 10000 })
  const drops = await page.evaluate(() => (globalThis as unknown as { drops: Array<{ id: string, drop: { namespace: string, pod: string, port: number, direction: string } }> }).drops)
  assert.ok(drops.every(d => d.drop.namespace === 'demo'), JSON.stringify(drops))
  assert.equal(drops[0]?.drop.pod, 'web')
  assert.equal(drops[0]?.drop.port, 5432)
  assert.equal(drops[0]?.drop.direction, 'egress')
  assert.ok(drops[0]?.id, 'events carry ids for Last-Event-ID')
  await page.close()
})

test('a browser WebSocket attaches with a ticket and the kdebug.v1 protocol', { skip }, async () => {
  const pod = await createShellPod(stack.sim)
  const page = await browser!.newPage()
  await page.goto(`${stack.url}/portal`)
  const out = await page.evaluate(async (p) => await (globalThis as unknown as { attachEcho: (t: string, p: string, l: string) => Promise<string> }).attachEcho('alice-token', p, 'echo hello-from-chromium'), pod)
  assert.match(out, /hello-from-chromium/)
  await page.close()
})
