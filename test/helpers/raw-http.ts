// One HTTP/1.1 request written byte for byte on a socket, so the request
// target reaches the gateway exactly as sent: fetch and app.inject normalise
// `..`, `.` and `%2e%2e` away (WHATWG URL parsing), curl --path-as-is and
// hostile clients do not.
import net from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
  json: () => any
}

export function parseRawResponse (text: string): RawResponse {
  const [head = '', ...rest] = text.split('\r\n\r\n')
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const l of lines) {
    const i = l.indexOf(':')
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim()
  }
  const body = rest.join('\r\n\r\n')
  return { status: Number(statusLine.split(' ')[1]), headers, body, json: () => JSON.parse(body) }
}

/** Writes `request` as is (or a request built from method, target, headers, body) and reads until the server closes. */
export async function rawRequest (baseUrl: string, request: string | { method: string, target: string, headers?: Record<string, string>, body?: string }): Promise<RawResponse> {
  let text: string
  if (typeof request === 'string') {
    text = request
  } else {
    const body = request.body ?? ''
    const headers: Record<string, string> = { host: 'gateway', connection: 'close', ...request.headers }
    if (body !== '') {
      headers['content-type'] ??= 'application/json'
      headers['content-length'] = String(Buffer.byteLength(body))
    }
    text = `${request.method} ${request.target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`
  }
  const u = new URL(baseUrl)
  const out = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    const sock = net.connect(Number(u.port), u.hostname, () => { sock.write(text) })
    sock.on('data', (d: Buffer) => chunks.push(d))
    sock.on('error', (err) => { if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('utf8')); else reject(err) })
    sock.on('close', () => { resolve(Buffer.concat(chunks).toString('utf8')) })
  })
  return parseRawResponse(out)
}
