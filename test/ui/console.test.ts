// The web console in a real browser (headless Chromium via playwright-core)
// against the gateway and the simulated cluster: the console is built from
// ui/ with ui/build.ts into a temp dir and served by the gateway.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { startStack, type Stack } from '../helpers/stack.ts'
import { launchChromium, screenshots, skipWithoutChromium as skip, type Screenshots } from '../helpers/browser.ts'
import { buildUi } from '../../ui/build.ts'

const DESKTOP = { width: 1280, height: 720 }
const PHONE = { width: 390, height: 844 }

let stack: Stack
let browser: Browser | undefined
let uiDir: string
let shots: Screenshots

before(async () => {
  if (skip) return
  uiDir = mkdtempSync(join(tmpdir(), 'kdebug-ui-build-'))
  await buildUi({ outdir: uiDir, minify: false })
  shots = screenshots('console')
  stack = await startStack({
    config: {
      ui: { enabled: true, dir: uiDir, namespaces: ['demo', 'payments'] },
      attach: { exitCodeLookupMs: 1000, recording: { enabled: true } }
    },
    configure: (dir) => ({ attach: { recording: { dir: join(dir, 'rec') } } })
  })
  browser = await launchChromium()
})

after(async () => {
  if (skip) return
  await browser?.close()
  await stack?.close()
  rmSync(uiDir, { recursive: true, force: true })
  shots.cleanup()
})

async function openConsole (viewport = DESKTOP): Promise<Page> {
  const page = await browser!.newPage({ viewport })
  page.on('pageerror', (err) => { throw err })
  await page.goto(`${stack.url}/ui/`)
  return page
}

async function signIn (page: Page, token: string): Promise<void> {
  await page.getByTestId('token-input').fill(token)
  await page.getByTestId('token-input').press('Enter')
  await page.getByTestId('namespace-select').waitFor()
}

test('sign-in: a bad token is refused with the gateway\'s words; a good one shows the user; the token stays out of the URL', { skip }, async () => {
  const page = await openConsole()
  await shots.take(page, 'sign-in-desktop')
  await page.getByTestId('token-input').fill('not-a-token')
  await page.getByTestId('sign-in').click()
  await page.getByRole('alert').waitFor()
  assert.match(await page.getByRole('alert').innerText(), /did not accept this token/)
  await signIn(page, 'alice-token')
  assert.match(await page.locator('.me').innerText(), /alice/)
  assert.equal(await page.getByTestId('namespace-select').inputValue(), 'demo')
  assert.doesNotMatch(page.url(), /alice-token/)
  assert.equal(await page.evaluate(() => sessionStorage.getItem('kdebug.token')), 'alice-token')
  assert.equal(await page.evaluate(() => localStorage.length), 0)
  await page.close()
})

test('drops of the selected namespace arrive live; another namespace\'s do not', { skip }, async () => {
  const page = await openConsole()
  await signIn(page, 'alice-token')
  const panel = page.getByTestId('drops-panel')
  await panel.getByRole('status').filter({ hasText: 'live' }).waitFor()
  await stack.sim.drops.tailer({ namespace: 'payments', pod: 'ledger', direction: 'receive', peer: 'demo', peerIP: '10.244.1.9', port: 5432 })
  await stack.sim.drops.tailer({ namespace: 'demo', pod: 'web', direction: 'send', peer: 'payments', peerIP: '10.244.2.7', port: 5432, protocol: 'TCP' })
  await panel.getByTestId('drop').first().waitFor()
  const text = await panel.innerText()
  assert.match(text, /web → payments 10\.244\.2\.7 TCP\/5432/)
  assert.doesNotMatch(text, /ledger/)
  await page.close()
})

test('sessions panel: the caller\'s session with requester, reason and a ticking expiry countdown', { skip }, async () => {
  const res = await stack.request('/v1/namespaces/demo/pods/web/ephemeral-containers', {
    method: 'POST', as: 'alice', body: JSON.stringify({ image: 'busybox:1.36', reason: 'countdown check', ttlSeconds: 1200, wait: 10 })
  })
  assert.equal(res.status, 201, await res.clone().text())
  const { session } = await res.json() as { session: { id: string } }
  const page = await openConsole()
  await signIn(page, 'alice-token')
  const row = page.getByTestId(`session-row-${session.id}`)
  await row.waitFor()
  assert.match(await row.innerText(), /alice/)
  assert.match(await row.innerText(), /countdown check/)
  const first = await row.locator('.expiry').innerText()
  assert.match(first, /(19|20)m \d\ds/)
  // It ticks: the text changes within a few seconds without a reload.
  await page.waitForFunction(`document.querySelector('[data-testid="session-row-${session.id}"] .expiry')?.textContent !== ${JSON.stringify(first)}`, undefined, { timeout: 5000 })
  await shots.take(page, 'signed-in-desktop')
  await page.setViewportSize(PHONE)
  await shots.take(page, 'signed-in-phone')
  await page.close()
})
