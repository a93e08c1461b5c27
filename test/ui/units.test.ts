// The console's pure modules: image choices agree with the policy's matcher,
// countdowns, drop summaries, stream query strings and attach URLs.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { allowedRepositories, checkImage, suggestImages } from '../../ui/src/images.ts'
import { countdown, dropSummary } from '../../ui/src/format.ts'
import { attachPath, attachTarget, dropsQuery, startedAttachUrl } from '../../ui/src/urls.ts'
import { describeProblem, type Drop } from '../../ui/src/api.ts'
import { defaultPolicy } from '../../src/policy/default.ts'

const developers = defaultPolicy.rules.find(r => r.name === 'developers')!.allow.images!

describe('images', () => {
  test('the default developers rule: official and namespaced images by tag or digest; others refused with the canonical name', () => {
    assert.deepEqual(checkImage('busybox:1.36', developers), { ok: true, canonical: 'docker.io/library/busybox:1.36' })
    assert.equal(checkImage('busybox', developers).ok, true)
    assert.equal(checkImage('nicolaka/netshoot:v0.13', developers).ok, true)
    assert.equal(checkImage(`alpine@sha256:${'a'.repeat(64)}`, developers).ok, true)
    assert.deepEqual(checkImage('ubuntu:24.04', developers), { ok: false, message: 'docker.io/library/ubuntu:24.04 matches none of the allowed patterns' })
    assert.deepEqual(checkImage('evil.example.com/busybox:1', developers), { ok: false, message: 'evil.example.com/busybox:1 matches none of the allowed patterns' })
    assert.deepEqual(checkImage('Not An Image', developers), { ok: false, message: '"Not An Image" is not a valid image reference' })
    assert.deepEqual(checkImage('busybox', []), { ok: false, message: 'no image is allowed here' })
  })

  test('suggestions: one concrete tag per tag pattern, none for digests or catch-alls', () => {
    assert.deepEqual(suggestImages(developers), ['busybox:latest', 'alpine:latest', 'nicolaka/netshoot:latest', 'wbitt/network-multitool:latest', 'registry.k8s.io/e2e-test-images/agnhost:latest'])
    assert.deepEqual(suggestImages(['**@sha256:*', '*', 'registry.example.com/team/*:*']), [])
    for (const s of suggestImages(developers)) assert.equal(checkImage(s, developers).ok, true, s)
  })

  test('the short list of allowed repositories shown under the field', () => {
    assert.deepEqual(allowedRepositories(developers), ['busybox', 'alpine', 'nicolaka/netshoot', 'wbitt/network-multitool', 'registry.k8s.io/e2e-test-images/agnhost'])
    assert.deepEqual(allowedRepositories(['**@sha256:*', 'registry.example.com/team/*:*']), ['**', 'registry.example.com/team/*'])
  })
})

describe('format', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  test('countdown', () => {
    assert.equal(countdown('2026-01-01T01:02:03Z', t0), '1h 02m')
    assert.equal(countdown('2026-01-01T00:14:03Z', t0), '14m 03s')
    assert.equal(countdown('2026-01-01T00:00:09Z', t0), '9s')
    assert.equal(countdown('2026-01-01T00:00:00Z', t0), 'expired')
    assert.equal(countdown(undefined, t0), '')
    assert.equal(countdown('garbage', t0), '')
  })

  test('drop summaries', () => {
    const base: Drop = { id: '1', time: null, namespace: 'demo', pod: 'web', direction: 'egress', peer: 'payments', peerIP: '10.244.2.7', port: 5432, protocol: 'TCP', count: 1, source: 'kube-iptables-tailer', dropReason: null, policies: [], message: '' }
    assert.equal(dropSummary(base), 'web → payments 10.244.2.7 TCP/5432')
    assert.equal(dropSummary({ ...base, direction: 'ingress', peer: '10.0.0.1', peerIP: '10.0.0.1', port: null, protocol: 'ICMPv4' }), 'web ← 10.0.0.1 ICMPv4')
    assert.equal(dropSummary({ ...base, pod: null, direction: null, peer: null, peerIP: null, port: null, protocol: null }), '? ↔ ?')
  })

  test('problems read as one sentence naming fields or the permission', () => {
    assert.equal(describeProblem(400, { detail: 'bad request', errors: [{ field: '/body/image', message: 'required' }] }), 'bad request (/body/image: required)')
    assert.equal(describeProblem(403, { detail: 'denied', permission: 'create pods/ephemeralcontainers' }), 'denied (needs create pods/ephemeralcontainers)')
    assert.equal(describeProblem(502, {}), 'HTTP 502')
  })
})

describe('stream URLs', () => {
  test('drops query: filters and history; a resumed stream asks for what follows its last event, not history again', () => {
    assert.equal(dropsQuery({ direction: 'egress', protocol: ' tcp ', pod: '', since: '10m' }).toString(), 'direction=egress&protocol=tcp&since=10m')
    assert.equal(dropsQuery({ since: '10m' }, '42').toString(), 'lastEventId=42')
    assert.equal(dropsQuery({}).toString(), '')
  })

  test('attach URLs: escaped paths; an absolute attach.url is re-rooted on the console\'s origin as ws/wss; wait for a starting container', () => {
    assert.equal(attachPath('demo', 'web', 'debugger-a b'), '/v1/namespaces/demo/pods/web/attach?container=debugger-a%20b')
    assert.equal(attachTarget('https://kdebug.example.com/v1/namespaces/demo/pods/web/attach?container=d', 'https://console.example.com/ui/').href,
      'wss://console.example.com/v1/namespaces/demo/pods/web/attach?container=d')
    assert.equal(attachTarget('/v1/x?container=d', 'http://127.0.0.1:8080/ui/').href, 'ws://127.0.0.1:8080/v1/x?container=d')
    assert.equal(startedAttachUrl('demo', 'web', 'd', undefined, false, 'http://h/ui/'), '/v1/namespaces/demo/pods/web/attach?container=d&wait=30')
    assert.equal(startedAttachUrl('demo', 'web', 'd', 'ws://h/v1/namespaces/demo/pods/web/attach?container=d', true, 'http://h/ui/'), '/v1/namespaces/demo/pods/web/attach?container=d')
  })
})
