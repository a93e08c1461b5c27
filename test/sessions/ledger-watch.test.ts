// The watch that keeps each replica's ledger cache current: events reach the
// ledger (never adding users it does not serve), bookmarks move the resume
// point, 410 Expired lists again, failures back off and never stop it; and,
// against the simulated API server with the gateway's own RBAC (deploy/), two
// replicas taking turns for one user write without a single conflict, where
// without the watch every turn conflicts first.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KubeConfig } from '@kubernetes/client-node'
import { startLedgerWatch, LEDGER_SELECTOR, type LedgerObserver } from '../../src/sessions/ledger-watch.ts'
import { SessionLedger, leaseName } from '../../src/sessions/ledger.ts'
import { WatchExpiredError, kubeLeaseClient, type Lease, type LeaseClient, type LeaseWatchEvent, type LeaseWatchOptions, type WatchableLeaseClient } from '../../src/kube/lease-client.ts'
import { closeKubeConnections } from '../../src/kube/transport.ts'
import { localLeaseClient } from '../../src/sessions/local-leases.ts'
import { createSigner } from '../../src/security/signing.ts'
import { isProblemError } from '../../src/errors.ts'
import { startSim } from '../../src/sim/index.ts'
import { waitFor } from '../helpers/sim-api.ts'

const signer = createSigner({ keys: [Buffer.alloc(32, 7)] })
const lease = (name: string, rv: string): Lease => ({ metadata: { name, namespace: 'kdebug', resourceVersion: rv }, spec: {} })

/** A scripted API server: each watch call plays the next script (events, then how it ends). */
function scripted (scripts: Array<{ events: LeaseWatchEvent[], end?: Error }>): { client: Pick<WatchableLeaseClient, 'listVersion' | 'watch'>, lists: number, watches: LeaseWatchOptions[], done: Promise<void> } {
  let finish = (): void => {}
  const s = {
    lists: 0,
    watches: [] as LeaseWatchOptions[],
    done: new Promise<void>(resolve => { finish = resolve }),
    client: {
      listVersion: async (_ns: string, selector: string) => { assert.equal(selector, LEDGER_SELECTOR); s.lists++; return `list-${s.lists}` },
      watch: async (_ns: string, opts: LeaseWatchOptions, onEvent: (e: LeaseWatchEvent) => void) => {
        s.watches.push({ ...opts })
        const script = scripts.shift()
        if (script === undefined) {
          finish()
          // the last watch stays open until stopped
          return await new Promise<never>((_resolve, reject) => { opts.signal.addEventListener('abort', () => { reject(new Error('aborted')) }, { once: true }) })
        }
        for (const e of script.events) onEvent(e)
        if (script.end) throw script.end
      }
    }
  }
  return s
}

function recorder (): LedgerObserver & { seen: string[] } {
  const seen: string[] = []
  return { seen, observe: (l) => { seen.push(`${l.metadata.name}@${l.metadata.resourceVersion ?? ''}`) }, observeDeleted: (n) => { seen.push(`-${n}`) } }
}

test('events reach the ledger, bookmarks move the resume point, 410 lists again, errors back off and are reported', async () => {
  const api = scripted([
    { events: [{ type: 'ADDED', object: lease('a', '11') }, { type: 'BOOKMARK', object: lease('', '15') }] },
    { events: [{ type: 'MODIFIED', object: lease('a', '16') }, { type: 'DELETED', object: lease('b', '17') }], end: new WatchExpiredError('too old') },
    { events: [], end: new Error('connection refused') },
    { events: [], end: new Error('connection refused') }
  ])
  const ledger = recorder()
  const errors: string[] = []
  const pauses: number[] = []
  const watch = startLedgerWatch({ leases: api.client, namespace: 'kdebug', ledger, onError: (e) => errors.push((e as Error).message), delay: async (ms) => { pauses.push(ms) }, random: () => 0.5 })
  await api.done
  await watch.stop()
  assert.deepEqual(ledger.seen, ['a@11', 'a@16', '-b'])
  assert.deepEqual(api.watches.map(w => w.resourceVersion), ['list-1', '15', 'list-2', 'list-2', 'list-2'], 'resumes from the bookmark; after 410 from a new list; after an error from where it was')
  assert.equal(api.lists, 2)
  assert.ok(api.watches.every(w => w.timeoutSeconds === 450 && w.labelSelector === LEDGER_SELECTOR), 'a server-side timeout between 5 and 10 minutes (random 0.5: 7.5), the ledger selector')
  assert.deepEqual(errors, ['connection refused', 'connection refused'], '410 is not an error')
  // the first cycle saw events (no pause); 410 after events: none; then two idle failures, growing
  // (full jitter at 0.5 of 1 s, then of 2 s)
  assert.deepEqual(pauses, [500, 1000])
})

test('stop() ends the loop while it waits out a backoff', async () => {
  const api = { listVersion: async () => { throw new Error('forbidden') }, watch: async () => {} }
  let waiting = false
  const watch = startLedgerWatch({
    leases: api,
    namespace: 'kdebug',
    ledger: recorder(),
    delay: async (_ms, signal) => { waiting = true; await new Promise<void>(resolve => { signal.addEventListener('abort', () => { resolve() }, { once: true }) }) }
  })
  await waitFor(() => waiting || undefined, 'the backoff', 2000)
  await watch.stop()
})

test('the ledger takes a newer version of a lease it caches, and never adds one it does not', async () => {
  const leases = localLeaseClient()
  const writes: string[] = []
  const reads: string[] = []
  const client: LeaseClient = {
    ...leases,
    get: async (ns, name) => { reads.push(name); return await leases.get(ns, name) },
    update: async (l) => { writes.push(l.metadata.resourceVersion ?? ''); return await leases.update(l) }
  }
  const l = new SessionLedger({ leases: client, namespace: 'kdebug', signer, graceMs: 60_000, acquireTimeoutMs: 5000 })
  const reserve = async (id: string, user = 'alice'): Promise<void> => {
    const r = await l.reserve({ user, session: { id, expiresAtMs: Date.now() + 3600_000 }, limit: 10, inCluster: async () => [] })
    assert.equal(r.kind, 'reserved')
  }
  await reserve('s1')
  await reserve('s2')
  // another replica writes alice's ledger: the event carries the lease as the server has it now
  const current = await leases.get('kdebug', leaseName('alice'))
  const theirs = await leases.update(current)
  l.observe(theirs)
  l.observe(await leases.create({ metadata: { name: leaseName('bob'), namespace: 'kdebug' }, spec: {} }))
  await reserve('s3')
  assert.equal(writes.at(-1), theirs.metadata.resourceVersion, 'the next write carries the version the event brought: no 409')
  reads.length = 0
  await reserve('b1', 'bob')
  assert.deepEqual(reads, [leaseName('bob')], 'bob\'s lease was not taken into the cache from the event: read on his first create')
})

test('two replicas over the simulated API server, taking turns for one user: with the watch no write conflicts; without it every turn does', async () => {
  const sim = await startSim()
  try {
    const turns = async (watching: boolean, user: string): Promise<{ conflicts: number, writes: number }> => {
      const kcs = [new KubeConfig(), new KubeConfig()]
      for (const kc of kcs) kc.loadFromString(sim.kubeconfig) // the gateway's service account, RBAC from deploy/
      const counts = { conflicts: 0, writes: 0 }
      const replicas = kcs.map(kc => {
        const api = kubeLeaseClient(kc)
        const counted: LeaseClient = {
          ...api,
          update: async (l) => {
            counts.writes++
            try { return await api.update(l) } catch (err) { if (isProblemError(err) && err.status === 409) counts.conflicts++; throw err }
          }
        }
        const ledger = new SessionLedger({ leases: counted, namespace: 'kdebug', signer, graceMs: 60_000, acquireTimeoutMs: 10_000 })
        const seen = new Set<string>()
        const observer: LedgerObserver = { observe: (l) => { seen.add(l.metadata.resourceVersion ?? ''); ledger.observe(l) }, observeDeleted: (n) => { ledger.observeDeleted(n) } }
        const watch = watching ? startLedgerWatch({ leases: api, namespace: 'kdebug', ledger: observer }) : undefined
        return { ledger, seen, watch, api, kc }
      })
      try {
        const now = Date.now()
        for (let i = 0; i < 8; i++) {
          const me = replicas[i % 2] as (typeof replicas)[number]
          const other = replicas[(i + 1) % 2] as (typeof replicas)[number]
          const r = await me.ledger.reserve({ user, session: { id: `s${i}`, expiresAtMs: now + 3600_000 }, limit: 100, inCluster: async () => [] })
          assert.equal(r.kind, 'reserved')
          if (watching) {
            const written = (await me.api.get('kdebug', leaseName(user))).metadata.resourceVersion ?? ''
            await waitFor(() => other.seen.has(written) || undefined, `replica ${(i + 1) % 2} sees version ${written}`, 10_000)
          }
        }
      } finally {
        for (const r of replicas) { await r.watch?.stop(); closeKubeConnections(r.kc) }
      }
      return counts
    }
    // The first turn creates the ledger, the second reads it (the other replica never cached
    // it), then every turn is one update.
    const watched = await turns(true, 'alice')
    assert.deepEqual(watched, { conflicts: 0, writes: 7 }, 'every write carried the version the other replica left')
    const blind = await turns(false, 'bob')
    assert.deepEqual(blind, { conflicts: 6, writes: 13 }, 'without the watch, from the third turn on each replica\'s cached version is stale: a 409, a read, a second write')
  } finally {
    await sim.close()
  }
})

test('the lease client against the simulated API server: list version, events of the selected leases, 410 both ways as WatchExpiredError', async () => {
  const sim = await startSim()
  const kc = new KubeConfig()
  kc.loadFromString(sim.kubeconfig)
  const api = kubeLeaseClient(kc)
  try {
    const from = await api.listVersion('kdebug', LEDGER_SELECTOR)
    const events: string[] = []
    const abort = new AbortController()
    const watching = api.watch('kdebug', { labelSelector: LEDGER_SELECTOR, resourceVersion: from, timeoutSeconds: 30, signal: abort.signal }, (e) => { events.push(`${e.type} ${e.object.metadata.name}`) })
    watching.catch(() => undefined)
    await api.create({ metadata: { name: 'not-a-ledger', namespace: 'kdebug' }, spec: {} })
    const mine = await api.create({ metadata: { name: 'ledger-x', namespace: 'kdebug', labels: { 'app.kubernetes.io/managed-by': 'kdebug-gateway' } }, spec: {} })
    await api.update(mine)
    await waitFor(() => events.length >= 2 || undefined, 'two events', 10_000)
    abort.abort()
    await assert.rejects(watching)
    assert.deepEqual(events, ['ADDED ledger-x', 'MODIFIED ledger-x'], 'only the selected leases')
    for (const how of ['http', 'event'] as const) {
      sim.faults.set({ expireNextWatch: how })
      await assert.rejects(api.watch('kdebug', { labelSelector: LEDGER_SELECTOR, resourceVersion: from, timeoutSeconds: 30, signal: new AbortController().signal }, () => {}), WatchExpiredError, how)
    }
  } finally {
    closeKubeConnections(kc)
    await sim.close()
  }
})
