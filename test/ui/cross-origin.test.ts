// A portal on another origin, in a real browser: a page on an origin listed
// in server.cors.origins calls the API (preflighted: it sends Authorization),
// gets a stream ticket and attaches over WebSocket; a page on an origin not
// listed gets nothing — the browser refuses the fetch (no CORS headers) and
// the gateway refuses the WebSocket upgrade (its Origin check).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { startStack, type Stack } from '../helpers/stack.ts'
import { createShellPod } from '../helpers/attach-stack.ts'
import { launchChromium, skipWithoutChromium as skip } from '../helpers/browser.ts'

interface PortalWindow {
  whoami: (gateway: string, token: string) => Promise<{ status: number, user?: string } | { error: string }>
  attach: (gateway: string, path: string, ticket: string, line: string) => Promise<string>
}

// The portal's page: plain browser APIs against the gateway's absolute URL.
const PAGE = `<!doctype html><meta charset="utf-8"><title>portal</title><script>
window.whoami = async (gateway, token) => {
  try {
    const res = await fetch(gateway + '/v1/whoami', { headers: { authorization: 'Bearer ' + token } })
    return { status: res.status, user: (await res.json()).user }
  } catch (err) { return { error: String(err) } }
}
window.attach = (gateway, path, ticket, line) => new Promise((resolve) => {
  const ws = new WebSocket(gateway.replace(/^http/, 'ws') + path + '&ticket=' + encodeURIComponent(ticket), ['kdebug.v1'])
  ws.binaryType = 'arraybuffer'
  let out = ''
  ws.onmessage = (e) => {
    if (typeof e.data === 'string') { if (JSON.parse(e.data).type === 'ready') ws.send(new TextEncoder().encode(line + '\\nexit 0\\n')); return }
    out += new TextDecoder().decode(e.data)
  }
  ws.onclose = (e) => resolve(e.code === 1000 ? out : 'closed ' + e.code)
})
</script>`

async function pageServer (): Promise<{ server: Server, origin: string }> {
  const server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

let stack: Stack
let browser: Browser | undefined
let allowed: { server: Server, origin: string }
let other: { server: Server, origin: string }

before(async () => {
  if (skip) return
  allowed = await pageServer()
  other = await pageServer()
  stack = await startStack({ config: { drops: { enabled: false }, server: { cors: { origins: [allowed.origin] } } } })
  browser = await launchChromium()
})

after(async () => {
  if (skip) return
  await browser?.close()
  await stack?.close()
  allowed?.server.close()
  other?.server.close()
})

async function portal (origin: string): Promise<{ page: Page, w: (fn: (w: PortalWindow) => Promise<unknown>) => Promise<unknown> }> {
  const page = await browser!.newPage()
  await page.goto(`${origin}/`)
  return { page, w: async (fn) => await page.evaluate(fn as never) }
}

async function ticketFor (path: string): Promise<string> {
  const res = await stack.request('/v1/stream-tickets', { method: 'POST', as: 'alice', body: JSON.stringify({ url: path }) })
  assert.equal(res.status, 201, await res.clone().text())
  return (await res.json() as { ticket: string }).ticket
}

test('an allowed origin calls the API cross-origin and attaches over WebSocket; another origin is refused both', { skip }, async () => {
  const pod = await createShellPod(stack.sim)
  const path = `/v1/namespaces/demo/pods/${pod}/attach?container=sh&tty=false&stdin=true`

  const ok = await portal(allowed.origin)
  const who = await ok.page.evaluate(async ([g]) => await (globalThis as unknown as PortalWindow).whoami(g as string, 'alice-token'), [stack.url])
  assert.deepEqual(who, { status: 200, user: 'alice' })
  const okTicket = await ticketFor(path)
  const out = await ok.page.evaluate(async ([g, p, t]) => await (globalThis as unknown as PortalWindow).attach(g as string, p as string, t as string, 'echo cross-origin-ok'), [stack.url, path, okTicket])
  assert.match(out as string, /cross-origin-ok/)
  await ok.page.close()

  const bad = await portal(other.origin)
  const refused = await bad.page.evaluate(async ([g]) => await (globalThis as unknown as PortalWindow).whoami(g as string, 'alice-token'), [stack.url]) as { error?: string }
  assert.match(refused.error ?? '', /Failed to fetch/, JSON.stringify(refused))
  const badTicket = await ticketFor(path)
  const closed = await bad.page.evaluate(async ([g, p, t]) => await (globalThis as unknown as PortalWindow).attach(g as string, p as string, t as string, 'echo must-not-run'), [stack.url, path, badTicket])
  assert.equal(closed, 'closed 1006')
  await bad.page.close()

  // The upgrade was refused before it reached the cluster, and audited as such.
  const records = readFileSync(stack.auditFile, 'utf8').trim().split('\n').map(l => JSON.parse(l) as { action: string, outcome?: { status?: number, code?: string } })
  assert.ok(records.some(r => r.action === 'attach.start' && r.outcome?.status === 403), 'a 403 attach.start record')
})
