// Opening the attach WebSocket: a refusal before the upgrade is an ordinary
// problem+json answer, reported like any other.
import { WebSocket } from 'ws'
import { CliError, ProblemError, type ProblemBody } from './errors.ts'
import { EXIT } from './exit-codes.ts'
import { cliVersion } from './client.ts'

export const KDEBUG_PROTOCOL = 'kdebug.v1'

export async function openWebSocket (url: URL): Promise<WebSocket> {
  const ws = new WebSocket(url, [KDEBUG_PROTOCOL], { headers: { 'user-agent': `kdebug-cli/${cliVersion()}` } })
  return await new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { if (body.length < 65536) body += c })
      res.on('end', () => {
        req.destroy()
        const status = res.statusCode ?? 0
        let problem: ProblemBody = {}
        try { problem = JSON.parse(body) as ProblemBody } catch {}
        reject(new ProblemError(status, problem))
      })
    })
    ws.once('error', (err: Error & { code?: string }) => {
      reject(new CliError(`cannot open the attach stream at ${url.origin}: ${err.code ?? err.message}`, EXIT.unavailable))
    })
  })
}
