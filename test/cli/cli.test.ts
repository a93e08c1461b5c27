// The kdebug CLI against a real gateway and simulated cluster, run as a child
// process the way users run it: one-shot commands, refusals, JSON/YAML output,
// sessions and end, drops, credentials from a kubeconfig (token and exec
// plugin), `kubectl kdebug` as a plugin, and -it through a real pseudo-terminal.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer, type AddressInfo } from 'node:net'
import { parse as parseYaml } from 'yaml'
import { startStack, type Stack } from '../helpers/stack.ts'
import { CLI_MAIN, hasTmux, runCli, startCli, TmuxSession } from '../helpers/cli.ts'
import { EXIT } from '../../src/cli/exit-codes.ts'

let s: Stack
const as = (user: string): Record<string, string> => ({ KDEBUG_SERVER: s.url, KDEBUG_TOKEN: s.sim.tokens[user] ?? '' })

before(async () => {
  s = await startStack({ config: { attach: { exitCodeLookupMs: 500 }, drops: { backoff: { initialMs: 20, maxMs: 200 } } } })
})
after(async () => { await s.close() })

/** Each CLI run is a Node start-up (~0.5 s of CPU); on a loaded machine a test of several takes a while. */
const SLOW = { timeout: 300_000 }

/** The run succeeded; its stdout. */
function ok (r: { code: number, stdout: string, stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

/** A loopback port nobody listens on. */
async function closedPort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as AddressInfo
  await new Promise(resolve => srv.close(resolve))
  return port
}

/** The session id and container name from the CLI's "Session ID: kind ns/pod container C" line. */
function sessionOf (stderr: string): { id: string, container: string } {
  const m = /Session (\S+): \S+ \S+ container (\S+)/.exec(stderr)
  assert.ok(m, stderr)
  return { id: m[1] as string, container: m[2] as string }
}

describe('one-shot commands', () => {
  test('debug -- COMMAND prints the output and exits 0; logs reads it again', SLOW, async () => {
    const r = await runCli(['debug', 'web', '-n', 'demo', '--image', 'busybox', '--target', 'app', '--reason', 'cli one-shot', '--', 'echo', 'hello from the cli'], as('alice'))
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'hello from the cli\n')
    const { container } = sessionOf(r.stderr)
    const logs = await runCli(['logs', 'web', '-n', 'demo', '-c', container], as('alice'))
    assert.equal(logs.code, 0, logs.stderr)
    assert.equal(logs.stdout, 'hello from the cli\n')
  })

  test('the command\'s exit code is the CLI\'s', async () => {
    const r = await runCli(['debug', 'web', '-n', 'demo', '--image', 'busybox', '--reason', 'exit code', '--', 'sh', '-c', 'echo out; exit 3'], as('alice'))
    assert.equal(r.stdout, 'out\n')
    assert.equal(r.code, 3, r.stderr)
  })
})

describe('refusals: one line on stderr, a distinct exit code, no token anywhere', () => {
  const oneLine = (stderr: string): string => {
    const lines = stderr.trimEnd().split('\n')
    assert.equal(lines.length, 1, stderr)
    return lines[0] as string
  }

  test('policy: the rule and field are named, exit 4', async () => {
    const r = await runCli(['debug', 'web', '-n', 'demo', '--image', 'busybox', '--cap', 'SYS_ADMIN', '--reason', 'too much', '--', 'true'], as('alice'))
    assert.equal(r.code, EXIT.forbidden)
    assert.equal(r.stdout, '')
    const line = oneLine(r.stderr)
    assert.match(line, /^error: .*\(403\): .*SYS_ADMIN.*\[rule developers; field \/body\/capabilities.*; request [0-9a-f-]{36}\]$/)
    assert.ok(!line.includes(s.sim.tokens.alice ?? '\0'))
  })

  test('RBAC: the missing permission is named, exit 4', async () => {
    const r = await runCli(['debug', 'web', '-n', 'demo', '--image', 'busybox', '--reason', 'viewer', '--', 'true'], as('bob'))
    assert.equal(r.code, EXIT.forbidden)
    assert.match(oneLine(r.stderr), /\(403\).*permission .*ephemeralcontainers/)
  })

  test('a bad token is exit 3 and the token is not echoed', async () => {
    const r = await runCli(['whoami'], { KDEBUG_SERVER: s.url, KDEBUG_TOKEN: 'secret-but-wrong-token' })
    assert.equal(r.code, EXIT.unauthenticated)
    assert.match(oneLine(r.stderr), /^error: .*\(401\)/)
    assert.ok(!r.stderr.includes('secret-but-wrong-token'))
  })

  test('a conflict (ending an ephemeral container) is exit 1', SLOW, async () => {
    const created = await runCli(['debug', 'web', '-n', 'demo', '--image', 'busybox', '--reason', 'to end', '--', 'true'], as('alice'))
    assert.equal(created.code, 0, created.stderr)
    const r = await runCli(['end', sessionOf(created.stderr).id, '-n', 'demo'], as('alice'))
    assert.equal(r.code, EXIT.failed)
    assert.match(oneLine(r.stderr), /\(409\)/)
  })

  test('usage errors are exit 2 with a pointer to help; no server is a usage error', SLOW, async () => {
    const bad = await runCli(['debug', 'web', '--bogus'], as('alice'))
    assert.equal(bad.code, EXIT.usage)
    assert.match(bad.stderr, /^error: .*--bogus.*\nSee 'kdebug debug --help'\.\n$/)
    const noServer = await runCli(['whoami'], { KDEBUG_TOKEN: 'x' })
    assert.equal(noServer.code, EXIT.usage)
    assert.match(noServer.stderr, /KDEBUG_SERVER/)
  })

  test('an unreachable gateway is exit 5', async () => {
    const port = await closedPort()
    const r = await runCli(['whoami'], { KDEBUG_SERVER: `http://127.0.0.1:${port}`, KDEBUG_TOKEN: 'x' })
    assert.equal(r.code, EXIT.unavailable)
    assert.equal(oneLine(r.stderr), `error: cannot reach the gateway at http://127.0.0.1:${port}: ECONNREFUSED`)
  })
})

describe('structured output, sessions and end', () => {
  test('whoami -o json and -n NS -o yaml', SLOW, async () => {
    const json = await runCli(['whoami', '-o', 'json'], as('alice'))
    assert.equal(json.code, 0, json.stderr)
    const me = JSON.parse(json.stdout)
    assert.equal(me.user, 'alice')
    assert.ok(me.groups.includes('dev'))
    const yaml = parseYaml(ok(await runCli(['whoami', '-n', 'demo', '-o', 'yaml'], as('alice'))))
    assert.deepEqual([yaml.namespace, yaml.can.ephemeral, yaml.can.node], ['demo', true, false])
  })

  test('copy, sessions in json/yaml/table, end: the copy is deleted', SLOW, async () => {
    const created = await runCli(['copy', 'api', '-n', 'demo', '--image', 'busybox', '--reason', 'cli copy', '--ttl', '15m'], as('carol'))
    assert.equal(created.code, 0, created.stderr)
    const m = /^session (\S+): copy demo\/(\S+) container (\S+) \(/.exec(created.stdout)
    assert.ok(m, created.stdout)
    const [, id, copyPod] = m as unknown as [string, string, string]
    assert.match(created.stdout, new RegExp(`end it with: kdebug end ${id} -n demo`))

    const list = JSON.parse(ok(await runCli(['sessions', '-n', 'demo', '-o', 'json'], as('carol'))))
    const mine = list.items.find((x: { id: string }) => x.id === id)
    assert.deepEqual([mine.kind, mine.pod, mine.requestedBy], ['copy', copyPod, 'carol'])
    const all = parseYaml(ok(await runCli(['sessions', '-A', '--mine', '-o', 'yaml'], as('carol'))))
    assert.ok(all.items.some((x: { id: string }) => x.id === id))
    const table = ok(await runCli(['sessions', '-A'], as('carol')))
    assert.match(table, /^ID\s+NAMESPACE\s+KIND\s+POD\s+CONTAINER\s+STATE\s+REQUESTED-BY\s+AGE\s+EXPIRES-IN\n/)
    assert.match(table, new RegExp(`\\n${id}\\s+demo\\s+copy\\s+${copyPod}\\s+\\S+\\s+\\S+\\s+carol\\s+\\S+\\s+1[45]m\\n`))

    const ended = await runCli(['end', id], as('carol'))
    assert.equal(ended.code, 0, ended.stderr)
    assert.match(ended.stdout, new RegExp(`^session ${id} ended: copy pod demo/${copyPod} `))
    const pod = await fetch(`${s.sim.url}/api/v1/namespaces/demo/pods/${copyPod}`, { headers: { authorization: `Bearer ${s.sim.tokens.admin ?? ''}` } })
    const body = await pod.json() as { metadata?: { deletionTimestamp?: string } }
    assert.ok(pod.status === 404 || body.metadata?.deletionTimestamp, `copy still there: ${pod.status}`)
  })
})

describe('drops', () => {
  const event = (name: string, peer: string, lastTimestamp: string): Parameters<Stack['sim']['store']['create']>[1] => ({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'demo' },
    involvedObject: { kind: 'Pod', namespace: 'demo', name: 'web', apiVersion: 'v1' },
    reason: 'PacketDrop',
    message: `Packet dropped when sending traffic to ${peer} (10.0.0.9) on port 5432/TCP`,
    source: { component: 'kube-iptables-tailer' },
    firstTimestamp: lastTimestamp,
    lastTimestamp,
    count: 1,
    type: 'Warning'
  })

  test('the list with --since, as json; -w prints new drops as they come', SLOW, async () => {
    const now = Date.now()
    s.sim.store.create('events', event('cli.old', 'old-peer', new Date(now - 3600_000).toISOString()))
    s.sim.store.create('events', event('cli.new', 'new-peer', new Date(now - 5_000).toISOString().replace(/\.\d+Z$/, 'Z')))
    let peers: string[] = []
    for (let i = 0; i < 200 && !peers.includes('new-peer'); i++) {
      const r = await runCli(['drops', '-n', 'demo', '--since', '10m', '-o', 'json'], as('alice'))
      peers = JSON.parse(ok(r)).items.map((d: { peer: string }) => d.peer)
    }
    assert.ok(peers.includes('new-peer'), peers.join())
    assert.ok(!peers.includes('old-peer'), 'older than --since')

    const watch = startCli(['drops', '-n', 'demo', '-w', '-o', 'json'], as('alice'))
    try {
      await watch.waitFor(/"peer":"new-peer"/)
      s.sim.store.create('events', event('cli.live', 'live-peer', new Date().toISOString().replace(/\.\d+Z$/, 'Z')))
      await watch.waitFor(/"peer":"live-peer"/)
      const lines = watch.output().trimEnd().split('\n').map(l => JSON.parse(l) as { id: string, peer: string })
      assert.equal(lines.filter(l => l.peer === 'live-peer').length, 1, 'printed once though list and stream overlap')
    } finally {
      await watch.stop()
    }
  })

  test('drops for a namespace without permission: 403, exit 4', async () => {
    const r = await runCli(['drops', '-n', 'payments'], as('alice'))
    assert.equal(r.code, EXIT.forbidden, r.stderr)
    assert.match(r.stderr, /\(403\).*permission/)
  })
})

describe('credentials from the kubeconfig', () => {
  const kubeconfig = (user: Record<string, unknown>, namespace = 'demo'): string => {
    const file = join(s.dir, `kubeconfig-${Math.random().toString(36).slice(2)}`)
    writeFileSync(file, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'sim', cluster: { server: s.sim.url } }],
      users: [{ name: 'me', user }],
      contexts: [{ name: 'ctx', context: { cluster: 'sim', user: 'me', namespace } }],
      'current-context': 'ctx'
    }))
    return file
  }

  test('the current user\'s token, and the context\'s namespace as the default', SLOW, async () => {
    const file = kubeconfig({ token: s.sim.tokens.alice })
    const r = await runCli(['whoami', '-o', 'json'], { KDEBUG_SERVER: s.url, KUBECONFIG: file })
    assert.equal(JSON.parse(ok(r)).user, 'alice')
    const sessions = await runCli(['sessions', '-o', 'json', '--kubeconfig', file], { KDEBUG_SERVER: s.url })
    assert.equal(sessions.code, 0, sessions.stderr)
    assert.ok(JSON.parse(sessions.stdout).items.every((x: { namespace: string }) => x.namespace === 'demo'))
  })

  test('an exec plugin (client.authentication.k8s.io/v1) supplies the token', async () => {
    const plugin = join(s.dir, 'credential-plugin.sh')
    writeFileSync(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${s.sim.tokens.carol ?? ''}"}}'\n`)
    chmodSync(plugin, 0o755)
    const file = kubeconfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } })
    const r = await runCli(['whoami', '-o', 'json'], { KDEBUG_SERVER: s.url, KUBECONFIG: file })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).user, 'carol')
  })

  test('a client-certificate user cannot be passed on: exit 3, told to use --token', async () => {
    const file = kubeconfig({ 'client-certificate-data': Buffer.from('x').toString('base64'), 'client-key-data': Buffer.from('y').toString('base64') })
    const r = await runCli(['whoami'], { KDEBUG_SERVER: s.url, KUBECONFIG: file })
    assert.equal(r.code, EXIT.unauthenticated)
    assert.match(r.stderr, /no bearer token .*--token/)
  })
})

test('kubectl runs it as a plugin: kubectl kdebug whoami', SLOW, async () => {
  const bin = join(s.dir, 'bin')
  mkdirSync(bin)
  symlinkSync(CLI_MAIN, join(bin, 'kubectl-kdebug'))
  // node_modules/.bin first: the shebang's `node` is Node 24 there, as under npm scripts and npx.
  const PATH = [bin, join(process.cwd(), 'node_modules', '.bin'), process.env.PATH].join(':')
  const r = await runCli(['kdebug', 'whoami', '-o', 'json'], { ...as('bob'), PATH }, { command: ['kubectl'] })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout).user, 'bob')
  const help = await runCli(['kdebug', 'sessions', '--help'], { PATH }, { command: ['kubectl'] })
  assert.match(help.stdout, /Usage:\n {2}kubectl kdebug sessions/)
})

describe('interactive: -it through a real pseudo-terminal (tmux)', () => {
  // Start-up, the create (waiting for the container) and the attach, on a machine that may be busy.
  const STARTUP_MS = 120_000
  const cmd = (user: string, args: string): string => `KDEBUG_SERVER=${s.url} KDEBUG_TOKEN=${s.sim.tokens[user] ?? ''} KUBECONFIG=/nonexistent ${process.execPath} ${CLI_MAIN} ${args}`

  test('a shell: typed input, the window size and its changes, the exit code', SLOW, async (t) => {
    if (!hasTmux()) {
      assert.ok(process.env.CI !== 'true', 'tmux must be installed in CI (.ci/run)')
      t.skip('tmux is not installed')
      return
    }
    const tmux = TmuxSession.start(cmd('alice', 'debug web -n demo --image busybox --target app --reason "cli tty" -it'), 100, 30)
    try {
      await tmux.waitFor(/If you don't see a command prompt, try pressing enter\./, STARTUP_MS)
      tmux.keys('Enter')
      await tmux.waitFor(/\/ #$/)
      tmux.type('stty size')
      tmux.keys('Enter')
      await tmux.waitFor(/^30 100$/m)
      tmux.resize(120, 40)
      // SIGWINCH and keys typed right after it race inside the CLI (as for a user who resizes
      // and types at once): ask again until the new size has arrived, a bounded number of times.
      for (let attempt = 1; ; attempt++) {
        tmux.type('stty size')
        tmux.keys('Enter')
        try {
          await tmux.waitFor(/^40 120$/m, 3000)
          break
        } catch (err) {
          if (attempt === 5) throw err
        }
      }
      tmux.type('exit 7')
      tmux.keys('Enter')
      await tmux.waitFor(/^EXIT=7$/m)
    } finally {
      tmux.close()
    }
  })

  test('Ctrl-D ends the shell (EOF on its terminal) and the CLI exits 0', SLOW, async (t) => {
    if (!hasTmux()) {
      assert.ok(process.env.CI !== 'true', 'tmux must be installed in CI (.ci/run)')
      t.skip('tmux is not installed')
      return
    }
    const tmux = TmuxSession.start(cmd('alice', 'debug web -n demo --image busybox --reason "cli eof" -it'), 80, 24)
    try {
      await tmux.waitFor(/try pressing enter/, STARTUP_MS)
      tmux.keys('Enter')
      await tmux.waitFor(/\/ #$/)
      tmux.keys('C-d')
      await tmux.waitFor(/^EXIT=0$/m)
    } finally {
      tmux.close()
    }
  })
})
