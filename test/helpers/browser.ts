// Headless Chromium (Debian's package, driven by playwright-core) for the
// browser tests, and where their screenshots go: a temp dir named in the test
// output, or KDEBUG_SCREENSHOTS=<dir> to keep them for a look.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const skipWithoutChromium: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian package chromium); browser tests skipped`

export async function launchChromium (): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}

export interface Screenshots {
  dir: string
  take: (page: Page, name: string) => Promise<string>
  /** Removes the dir unless KDEBUG_SCREENSHOTS named it. */
  cleanup: () => void
}

export function screenshots (prefix: string): Screenshots {
  const kept = process.env.KDEBUG_SCREENSHOTS
  const dir = kept ? join(kept, prefix) : mkdtempSync(join(tmpdir(), `kdebug-${prefix}-`))
  mkdirSync(dir, { recursive: true })
  return {
    dir,
    take: async (page, name) => {
      const file = join(dir, `${name}.png`)
      await page.screenshot({ path: file, fullPage: true })
      return file
    },
    cleanup: () => { if (!kept) rmSync(dir, { recursive: true, force: true }) }
  }
}
