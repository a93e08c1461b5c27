import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { ProcessTable, classifyCommand, type ContainerProcess, type ProcessSpec } from '../../../src/sim/kubelet/process.ts'
import { floodContent } from '../../../src/sim/kubelet/process-shell.ts'
import { parseCommandLine } from '../../../src/sim/kubelet/shell-syntax.ts'
import { OutputLog, formatLogTimestamp } from '../../../src/sim/kubelet/process-log.ts'
import { loopTurns } from '../../helpers/event-loop.ts'

function spec (over: Partial<ProcessSpec> = {}): ProcessSpec {
  return { namespace: 'demo', pod: 'web', container: 'debugger', image: 'busybox', stdin: true, tty: false, ...over }
}

/** Collects output; `until` resolves when the collected text satisfies the predicate. */
function collect (proc: ContainerProcess): { text: () => string, stderr: () => string, until: (pred: (s: string) => boolean, ms?: number) => Promise<string> } {
  let out = ''
  let err = ''
  const waiters: Array<() => void> = []
  proc.onOutput((stream, chunk) => {
    if (stream === 'stdout') out += chunk.toString('utf8')
    else err += chunk.toString('utf8')
    for (const w of waiters.splice(0)) w()
  })
  const until = async (pred: (s: string) => boolean, ms = 10_000): Promise<string> => {
    const deadline = Date.now() + ms
    while (!pred(out + err)) {
      if (Date.now() > deadline) throw new Error(`timeout; got ${JSON.stringify(out + err)}`)
      await new Promise<void>(resolve => { waiters.push(resolve); setTimeout(resolve, 20) })
    }
    return out + err
  }
  return { text: () => out, stderr: () => err, until }
}

function exitOf (proc: ContainerProcess): Promise<number> {
  return new Promise(resolve => proc.onExit(resolve))
}

describe('line shell without tty', () => {
  test('runs commands without echo or prompt and exits with the given code', async () => {
    const table = new ProcessTable()
    const p = table.start(spec())
    const c = collect(p)
    const exited = exitOf(p)
    p.write(Buffer.from('echo hi there\nstderr oops\nexit 3\n'))
    assert.equal(await exited, 3)
    assert.equal(p.exitCode, 3)
    assert.equal(c.text(), 'hi there\n')
    assert.equal(c.stderr(), 'oops\n')
    table.closeAll()
  })

  test('unknown commands fail with 127 on stderr; stdin EOF ends the shell with the last status', async () => {
    const table = new ProcessTable()
    const p = table.start(spec())
    const c = collect(p)
    const exited = exitOf(p)
    p.write(Buffer.from('nope arg\necho status=$?\nfalse'))
    await c.until(s => s.includes('status=127'))
    assert.equal(c.stderr(), 'sh: nope: not found\n')
    assert.equal(p.exited, false)
    p.closeStdin() // the partial last line still runs, then EOF ends sh with its status
    assert.equal(await exited, 1)
    table.closeAll()
  })

  test('input split across writes is assembled into lines; cat copies stdin until EOF', async () => {
    const table = new ProcessTable()
    const p = table.start(spec())
    const c = collect(p)
    const exited = exitOf(p)
    p.write(Buffer.from('ec'))
    p.write(Buffer.from('ho a"b c"\ncat\nline1\n'))
    await c.until(s => s.includes('line1'))
    p.write(Buffer.from('partial'))
    p.closeStdin()
    assert.equal(await exited, 0)
    assert.equal(c.text(), 'ab c\nline1\npartial')
    table.closeAll()
  })

  test('stty size without a tty fails like busybox', async () => {
    const table = new ProcessTable()
    const p = table.start(spec())
    const c = collect(p)
    p.write(Buffer.from('stty size\n'))
    await c.until(s => s.length > 0)
    assert.equal(c.stderr(), 'stty: standard input: Not a tty\n')
    table.closeAll()
  })
})

describe('line shell with tty', () => {
  test('prompt, line-discipline echo with CRLF, resize reported by size', async () => {
    const table = new ProcessTable()
    const p = table.start(spec({ tty: true }))
    const before = p.logSince({}).toString()
    assert.equal(before, '/ # ')
    const c = collect(p)
    p.resize(120, 40)
    p.write(Buffer.from('size\r'))
    await c.until(s => s.endsWith('/ # '))
    assert.equal(c.text(), 'size\r\n40 120\r\n/ # ')
    table.closeAll()
  })

  test('backspace erases, stderr is merged into stdout, ^C interrupts sleep', async () => {
    const table = new ProcessTable()
    const p = table.start(spec({ tty: true }))
    const c = collect(p)
    p.write(Buffer.from('stderrx\x7f err\r'))
    await c.until(s => s.endsWith('/ # '))
    assert.equal(c.text(), 'stderrx\b \b err\r\nerr\r\n/ # ')
    assert.equal(c.stderr(), '')
    p.write(Buffer.from('sleep 30\r'))
    await c.until(s => s.endsWith('sleep 30\r\n'))
    p.write(Buffer.from('\x03'))
    await c.until(s => s.endsWith('^C\r\n/ # '))
    p.write(Buffer.from('echo $?\r'))
    await c.until(s => s.includes('130\r\n'))
    table.closeAll()
  })

  test('^D on an empty line ends the shell and prints exit', async () => {
    const table = new ProcessTable()
    const p = table.start(spec({ tty: true }))
    const c = collect(p)
    const exited = exitOf(p)
    p.write(Buffer.from('\x04'))
    assert.equal(await exited, 0)
    assert.equal(c.text(), 'exit\r\n')
    table.closeAll()
  })
})

describe('flood and back-pressure', () => {
  test('floodContent is the same whatever the chunking', () => {
    const whole = floodContent(0, 10_000)
    const parts = Buffer.concat([floodContent(0, 100), floodContent(100, 4000), floodContent(4100, 5900)])
    assert.ok(whole.equals(parts))
    assert.equal(whole.subarray(0, 64).toString(), '0000000000 abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n')
    assert.equal(whole.subarray(64, 128).toString(), '0000000001 bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZa\n')
    assert.equal(floodContent(64, 64, true).subarray(0, 11).toString(), '0000000001 ')
    assert.equal(floodContent(64, 64, true).subarray(62).toString(), '\r\n')
  })

  test('flood emits exactly BYTES in order; a hold stops it until released', async () => {
    const table = new ProcessTable()
    const p = table.start(spec())
    const hash = createHash('sha256')
    let bytes = 0
    let release: (() => void) | undefined
    let producedWhileHeld = 0
    let holdTaken!: () => void
    const held = new Promise<void>(resolve => { holdTaken = resolve })
    p.onOutput((_s, chunk) => {
      hash.update(chunk)
      bytes += chunk.length
      if (release) producedWhileHeld += chunk.length
      if (bytes > 1_000_000 && bytes < 1_100_000 && !release) { release = p.hold?.(); holdTaken() }
    })
    p.write(Buffer.from('flood 3000000 50000\n'))
    await held
    assert.ok(release, 'hold taken')
    const heldAt = bytes
    // the generator steps once per loop turn: unheld, 20 turns would emit 20 more batches
    await loopTurns(20)
    assert.equal(bytes, heldAt, 'no output while held')
    assert.ok(producedWhileHeld <= 50000 * 2)
    release()
    p.write(Buffer.from('exit\n'))
    assert.equal(await exitOf(p), 0)
    assert.equal(bytes, 3_000_000)
    assert.equal(hash.digest('hex'), createHash('sha256').update(floodContent(0, 3_000_000)).digest('hex'))
    table.closeAll()
  })

  test('yes N prints N lines', async () => {
    const table = new ProcessTable()
    const p = table.start(spec())
    const c = collect(p)
    p.write(Buffer.from('yes 40000\necho done\n'))
    await c.until(s => s.endsWith('done\n'))
    assert.equal(c.text(), 'y\n'.repeat(40000) + 'done\n')
    table.closeAll()
  })
})

describe('containers without stdin', () => {
  test('service images log startup lines and run until the pod is deleted', async () => {
    const table = new ProcessTable()
    const p = table.start(spec({ container: 'app', image: 'nginx:1.27', stdin: false }))
    const log = p.logSince({}).toString()
    assert.match(log, /Configuration complete; ready for start up/)
    assert.match(log, /\[notice\] 1#1: start worker processes/)
    assert.equal(p.exited, false)
    const exited = exitOf(p)
    table.killPod('demo', 'web')
    assert.equal(await exited, 137)
    assert.equal(table.get('demo', 'web', 'app'), undefined)
  })

  test('a shell command runs and exits with its status; output lands in the log', async () => {
    const table = new ProcessTable()
    const p = table.start(spec({ stdin: false, command: ['sh', '-c', 'echo one && false || echo two; exit 4'] }))
    assert.equal(await exitOf(p), 4)
    assert.equal(p.logSince({}).toString(), 'one\ntwo\n')
    const q = table.start(spec({ container: 'ss', stdin: false, command: ['ss', '-tanp'] }))
    assert.equal(await exitOf(q), 0)
    assert.match(q.logSince({}).toString(), /^State/)
  })

  test('classifyCommand tells scripts, shells and services apart', () => {
    assert.deepEqual(classifyCommand({ command: ['/bin/sh', '-c', 'echo x'], stdin: false }), { kind: 'script', lines: ['echo x'] })
    assert.deepEqual(classifyCommand({ command: ['sh'], stdin: true }), { kind: 'interactive' })
    assert.deepEqual(classifyCommand({ stdin: true }), { kind: 'interactive' })
    assert.deepEqual(classifyCommand({ command: ['sleep', 'infinity'], stdin: false }), { kind: 'script', lines: ['sleep infinity'] })
    assert.deepEqual(classifyCommand({ command: ['/app/server', '--port=8080'], stdin: false }), { kind: 'service' })
    assert.deepEqual(classifyCommand({ stdin: false }), { kind: 'service' })
  })
})

describe('process table and log history', () => {
  test('start is idempotent while the process runs and restarts after exit', async () => {
    const table = new ProcessTable()
    const a = table.start(spec())
    assert.equal(table.start(spec()), a)
    assert.equal(table.get('demo', 'web', 'debugger'), a)
    a.write(Buffer.from('exit 1\n'))
    await exitOf(a)
    const b = table.start(spec())
    assert.notEqual(b, a)
    assert.equal(table.previous('demo', 'web', 'debugger'), a)
    table.closeAll()
    assert.equal(b.exited, true)
  })

  test('tailLines and sinceSeconds select lines like the kubelet', async () => {
    const table = new ProcessTable()
    const p = table.start(spec())
    const c = collect(p)
    p.write(Buffer.from('echo 1\necho 2\necho 3\n'))
    await c.until(s => s.endsWith('3\n'))
    assert.equal(p.logSince({ tailLines: 2 }).toString(), '2\n3\n')
    assert.equal(p.logSince({ tailLines: 0 }).toString(), '')
    assert.equal(p.logSince({ sinceSeconds: 60 }).toString(), '1\n2\n3\n')
    table.closeAll()
  })

  test('the output log drops the oldest chunks beyond its limit and filters by time', () => {
    const log = new OutputLog(10)
    log.append(Buffer.from('aaaa\n'), 1000)
    log.append(Buffer.from('bbbb\n'), 2000)
    log.append(Buffer.from('cc'), 3000)
    log.append(Buffer.from('c\n'), 3500)
    assert.deepEqual(log.records().map(r => r.line.toString()), ['bbbb\n', 'ccc\n'])
    assert.deepEqual(log.records({ sinceSeconds: 1.5 }, 4000).map(r => [r.time, r.line.toString()]), [[3000, 'ccc\n']])
  })

  test('timestamps use RFC3339Nano with nine fraction digits in UTC', () => {
    assert.equal(formatLogTimestamp(Date.UTC(2026, 10, 27, 10, 19, 1, 123) + 0.5), '2026-11-27T10:19:01.123500000Z')
    assert.equal(formatLogTimestamp(Date.UTC(2026, 0, 1)), '2026-01-01T00:00:00.000000000Z')
  })

  test('parseCommandLine handles quotes, escapes, variables, lists and >&2', () => {
    const vars = (n: string): string => ({ '?': '0', HOME: '/root' }[n] ?? '')
    assert.deepEqual(parseCommandLine('echo \'a b\' "c $HOME" d\\ e >&2 # note', vars), [{ argv: ['echo', 'a b', 'c /root', 'd e'], toStderr: true, op: ';' }])
    assert.deepEqual(parseCommandLine('true && echo $? || x; y', vars).map(c => [c.argv, c.op]), [[['true'], '&&'], [['echo', '0'], '||'], [['x'], ';'], [['y'], ';']])
    assert.throws(() => parseCommandLine('echo "open', vars), /unterminated/)
    assert.throws(() => parseCommandLine('a | b', vars), /pipes/)
  })
})
