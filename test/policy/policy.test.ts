import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Value } from '@sinclair/typebox/value'
import { parse as parseYaml } from 'yaml'
import { compilePolicy, normalizeCapability, validatePolicy } from '../../src/policy/policy.ts'
import type { PolicyDecision, PolicyRequest, PolicySubject } from '../../src/policy/policy.ts'
import { PolicySchema, type Policy, type PolicyRule } from '../../src/policy/config-schema.ts'
import { defaultPolicy, defaultPolicyYaml } from '../../src/policy/default.ts'
import { compileImagePattern, expandImagePattern, normalizeImage } from '../../src/policy/image-ref.ts'

const DIGEST = 'sha256:' + 'ab'.repeat(32)
const alice = { user: 'alice', groups: ['dev', 'system:authenticated'] }
const sam = { user: 'sam', groups: ['sre'] }
const eve = { user: 'eve', groups: ['system:authenticated'] }

/** The one entry point, compiled per call here because most cases build their own policy. */
function evaluatePolicy (policy: Policy, subject: PolicySubject, request: PolicyRequest): PolicyDecision {
  return compilePolicy(policy).evaluate(subject, request)
}

function req (over: Partial<PolicyRequest> = {}): PolicyRequest {
  return { action: 'ephemeral', namespace: 'demo', images: ['busybox:1.36'], capabilities: [], privileged: false, profile: 'general', reason: 'debugging', ...over }
}

function rule (name: string, allow: Partial<PolicyRule['allow']> = {}, match: PolicyRule['match'] = { groups: ['dev'] }): PolicyRule {
  return Value.Default(PolicySchema.properties.rules.items, { name, match, allow }) as PolicyRule
}

function policy (...rules: PolicyRule[]): Policy {
  return { rules }
}

function denied (d: PolicyDecision): { field: string, detail: string, rule?: string } {
  assert.equal(d.allowed, false, 'expected a denial')
  return d.allowed ? { field: '', detail: '' } : d
}

describe('image references', () => {
  test('normalise like Docker', () => {
    assert.equal(normalizeImage('busybox'), 'docker.io/library/busybox:latest')
    assert.equal(normalizeImage('docker.io/library/busybox:latest'), 'docker.io/library/busybox:latest')
    assert.equal(normalizeImage('index.docker.io/library/busybox'), 'docker.io/library/busybox:latest')
    assert.equal(normalizeImage('nicolaka/netshoot:v0.13'), 'docker.io/nicolaka/netshoot:v0.13')
    assert.equal(normalizeImage('localhost/foo'), 'localhost/foo:latest')
    assert.equal(normalizeImage('localhost:5000/foo/bar:1'), 'localhost:5000/foo/bar:1')
    assert.equal(normalizeImage('registry.k8s.io/e2e-test-images/agnhost:2.39'), 'registry.k8s.io/e2e-test-images/agnhost:2.39')
    assert.equal(normalizeImage(`busybox:1.36@${DIGEST}`), `docker.io/library/busybox@${DIGEST}`)
    for (const bad of ['', 'BusyBox', 'busy box', 'busybox:', 'busybox@sha256:abc', 'busybox:-x', '/busybox', 'a//b']) {
      assert.equal(normalizeImage(bad), null, bad)
    }
  })

  test('patterns: exact references, tag globs, digest globs, everything', () => {
    const m = (p: string, image: string): boolean => compileImagePattern(p)(normalizeImage(image) as string)
    assert.ok(m('busybox', 'docker.io/library/busybox:latest'))
    assert.ok(!m('busybox', 'busybox:1.36'), 'a bare name means :latest, as in Docker')
    assert.ok(m('busybox:*', 'busybox:1.36'))
    assert.ok(!m('busybox:*', `busybox@${DIGEST}`), 'tag globs do not allow digests')
    assert.ok(m('docker.io/library/busybox@sha256:*', `busybox@${DIGEST}`))
    assert.ok(m(`busybox@${DIGEST}`, `docker.io/library/busybox:1.36@${DIGEST}`))
    assert.ok(!m(`busybox@${DIGEST}`, `busybox@sha256:${'cd'.repeat(32)}`))
    assert.ok(m('busybox*', 'busybox:1.36'))
    assert.ok(m('busybox*', 'busybox-extras:1'))
    assert.ok(!m('busybox*', 'evil/busybox:1'))
    assert.ok(m('nicolaka/netshoot:*', 'nicolaka/netshoot:v0.13'))
    assert.ok(m('docker.io/*/netshoot:*', 'nicolaka/netshoot:v0.13'))
    assert.ok(!m('docker.io/*:*', 'nicolaka/netshoot:v0.13'), '* does not cross /')
    assert.ok(m('docker.io/**', 'nicolaka/netshoot:v0.13'))
    assert.ok(m('**@sha256:*', `quay.io/x/y@${DIGEST}`))
    assert.ok(!m('**@sha256:*', 'quay.io/x/y:1'))
    assert.ok(m('*', 'quay.io/x/y:1'))
    assert.ok(m('registry.k8s.io/e2e-test-images/agnhost:2.?9', 'registry.k8s.io/e2e-test-images/agnhost:2.39'))
    assert.throws(() => compileImagePattern('Not Valid'), /not a valid image reference/)
  })

  test('capabilities compare without CAP_ and case', () => {
    assert.equal(normalizeCapability('cap_net_admin'), 'NET_ADMIN')
    assert.equal(normalizeCapability(' NET_RAW '), 'NET_RAW')
  })
})

describe('evaluatePolicy: matching', () => {
  test('no matching rule denies with field subject, naming user and namespace', () => {
    const d = denied(evaluatePolicy(defaultPolicy, eve, req()))
    assert.equal(d.field, 'subject')
    assert.equal(d.rule, undefined)
    assert.equal(d.detail, 'no policy rule matches user "eve" (groups: system:authenticated) in namespace "demo"')
    assert.equal(denied(evaluatePolicy({ rules: [] }, alice, req())).field, 'subject')
  })

  test('users OR groups; wildcards in names', () => {
    const p = policy(rule('by-user', {}, { users: ['alice', 'system:serviceaccount:ci:*'], groups: ['ops'] }))
    assert.equal(evaluatePolicy(p, alice, req({ images: [] })).allowed, true)
    assert.equal(evaluatePolicy(p, { user: 'system:serviceaccount:ci:runner', groups: [] }, req({ images: [] })).allowed, true)
    assert.equal(evaluatePolicy(p, { user: 'bob', groups: ['ops'] }, req({ images: [] })).allowed, true)
    assert.equal(denied(evaluatePolicy(p, { user: 'bob', groups: ['dev'] }, req({ images: [] }))).field, 'subject')
  })

  test('a rule with no users/groups matches every subject', () => {
    const p = policy(rule('everyone', {}, {}))
    assert.equal(evaluatePolicy(p, eve, req({ images: [] })).allowed, true)
  })

  test('namespaces globs', () => {
    const p = policy(rule('team', {}, { groups: ['dev'], namespaces: ['team-*', 'demo'] }))
    assert.equal(evaluatePolicy(p, alice, req({ images: [], namespace: 'team-a' })).allowed, true)
    assert.equal(evaluatePolicy(p, alice, req({ images: [], namespace: 'demo' })).allowed, true)
    const d = denied(evaluatePolicy(p, alice, req({ images: [], namespace: 'kube-system' })))
    assert.equal(d.field, 'subject')
    assert.match(d.detail, /namespace "kube-system"/)
    assert.equal(evaluatePolicy(policy(rule('all', {}, { groups: ['dev'], namespaces: ['*'] })), alice, req({ images: [], namespace: 'x' })).allowed, true)
  })

  test('nodes globs: only requests naming a matching node match', () => {
    const p = policy(rule('pool', { nodeDebug: true }, { groups: ['dev'], nodes: ['pool-a-*'] }))
    assert.equal(evaluatePolicy(p, alice, req({ action: 'node', images: [], node: 'pool-a-1' })).allowed, true)
    assert.equal(denied(evaluatePolicy(p, alice, req({ action: 'node', images: [], node: 'pool-b-1' }))).field, 'subject')
    assert.equal(denied(evaluatePolicy(p, alice, req({ images: [] }))).field, 'subject')
  })

  test('first matching rule wins, even when it denies', () => {
    const p = policy(
      rule('strict', { images: ['alpine:*'] }, { groups: ['dev'] }),
      rule('loose', { images: ['*'] }, { groups: ['dev'] })
    )
    const d = denied(evaluatePolicy(p, alice, req()))
    assert.equal(d.rule, 'strict')
    const swapped = policy(p.rules[1] as PolicyRule, p.rules[0] as PolicyRule)
    const ok = evaluatePolicy(swapped, alice, req())
    assert.equal(ok.allowed && ok.rule, 'loose')
    // A rule that does not match is skipped.
    const skip = policy(rule('sre-only', { images: ['*'] }, { groups: ['sre'] }), rule('dev', { images: ['busybox:*'] }))
    const r = evaluatePolicy(skip, alice, req())
    assert.equal(r.allowed && r.rule, 'dev')
  })
})

describe('evaluatePolicy: each allow field', () => {
  const p = policy(rule('developers', {
    images: ['busybox:*', 'docker.io/library/alpine@sha256:*', `nicolaka/netshoot@${DIGEST}`],
    capabilities: ['CAP_SYS_PTRACE', 'net_admin'],
    profiles: ['general', 'netadmin'],
    maxTtlSeconds: 1800,
    requireReason: true,
    maxSessionsPerUser: 2
  }))

  test('allowed request returns rule, ttl and session limit', () => {
    assert.deepEqual(evaluatePolicy(p, alice, req({ capabilities: ['NET_ADMIN', 'cap_sys_ptrace'], ttlSeconds: 600 })),
      { allowed: true, rule: 'developers', ttlSeconds: 600, maxSessionsPerUser: 2 })
  })

  test('images: denial names rule, image and its normalised form', () => {
    const d = denied(evaluatePolicy(p, alice, req({ images: ['evil:1'] })))
    assert.equal(d.field, 'image')
    assert.equal(d.rule, 'developers')
    assert.equal(d.detail, 'image "evil:1" (docker.io/library/evil:1) is not allowed by rule "developers"')
    assert.equal(evaluatePolicy(p, alice, req({ images: [`alpine@${DIGEST}`] })).allowed, true)
    assert.equal(denied(evaluatePolicy(p, alice, req({ images: ['alpine:3'] }))).field, 'image')
    assert.equal(evaluatePolicy(p, alice, req({ images: [`docker.io/nicolaka/netshoot:v1@${DIGEST}`] })).allowed, true)
    assert.equal(denied(evaluatePolicy(p, alice, req({ images: ['nicolaka/netshoot:v1'] }))).field, 'image')
    assert.match(denied(evaluatePolicy(p, alice, req({ images: ['Bad Image'] }))).detail, /not a valid image reference/)
    // Every image counts (copies with setImage).
    assert.equal(denied(evaluatePolicy(p, alice, req({ images: ['busybox:1', 'nginx:1'] }))).detail, 'image "nginx:1" (docker.io/library/nginx:1) is not allowed by rule "developers"')
  })

  test('capabilities; ALL only when listed', () => {
    const d = denied(evaluatePolicy(p, alice, req({ capabilities: ['NET_RAW'] })))
    assert.deepEqual([d.field, d.detail], ['capabilities', 'capability NET_RAW is not allowed by rule "developers"'])
    assert.equal(denied(evaluatePolicy(p, alice, req({ capabilities: ['ALL'] }))).field, 'capabilities')
    const all = policy(rule('all', { images: ['*'], capabilities: ['ALL'] }))
    assert.equal(evaluatePolicy(all, alice, req({ capabilities: ['ALL', 'SYS_ADMIN'] })).allowed, true)
  })

  test('profiles', () => {
    const d = denied(evaluatePolicy(p, alice, req({ profile: 'sysadmin' })))
    assert.deepEqual([d.field, d.detail], ['profile', 'profile "sysadmin" is not allowed by rule "developers" (allowed: general, netadmin)'])
    assert.equal(evaluatePolicy(p, alice, req({ profile: 'netadmin' })).allowed, true)
  })

  test('privileged', () => {
    assert.equal(denied(evaluatePolicy(p, alice, req({ privileged: true }))).field, 'privileged')
    const priv = policy(rule('priv', { images: ['*'], privileged: true }))
    assert.equal(evaluatePolicy(priv, alice, req({ privileged: true })).allowed, true)
  })

  test('nodeDebug gates node actions, host namespaces and host paths', () => {
    const d = denied(evaluatePolicy(p, alice, req({ action: 'node', node: 'n1' })))
    assert.deepEqual([d.field, d.detail], ['action', 'node debugging is not allowed by rule "developers"'])
    assert.equal(denied(evaluatePolicy(p, alice, req({ hostNamespaces: true }))).field, 'hostNamespaces')
    assert.equal(denied(evaluatePolicy(p, alice, req({ hostPathMounts: true }))).field, 'hostPathMounts')
    const node = policy(rule('node', { images: ['*'], nodeDebug: true }))
    assert.equal(evaluatePolicy(node, alice, req({ action: 'node', node: 'n1', hostNamespaces: true, hostPathMounts: true })).allowed, true)
  })

  test('actions', () => {
    const onlyAttach = policy(rule('attach-only', { actions: ['attach', 'logs'] }))
    assert.equal(evaluatePolicy(onlyAttach, alice, req({ action: 'attach', images: [] })).allowed, true)
    const d = denied(evaluatePolicy(onlyAttach, alice, req({ action: 'copy', images: [] })))
    assert.deepEqual([d.field, d.detail], ['action', 'action "copy" is not allowed by rule "attach-only"'])
    // nodeDebug is still needed when actions lists node.
    assert.equal(denied(evaluatePolicy(policy(rule('n', { actions: ['node'] })), alice, req({ action: 'node', images: [] }))).field, 'action')
  })

  test('runAsRoot', () => {
    const noRoot = policy(rule('no-root', { images: ['*'], runAsRoot: false }))
    assert.equal(denied(evaluatePolicy(noRoot, alice, req({ runAsUser: 0 }))).field, 'runAsUser')
    assert.equal(evaluatePolicy(noRoot, alice, req({ runAsUser: 1000 })).allowed, true)
    assert.equal(evaluatePolicy(noRoot, alice, req()).allowed, true)
    assert.equal(evaluatePolicy(policy(rule('root', { images: ['*'] })), alice, req({ runAsUser: 0 })).allowed, true)
  })

  test('attach/logs: no reason or TTL needed, omitted fields unchecked', () => {
    assert.equal(evaluatePolicy(p, alice, { action: 'attach', namespace: 'demo' }).allowed, true)
    assert.equal(evaluatePolicy(p, alice, { action: 'logs', namespace: 'demo', ttlSeconds: 99999 }).allowed, true)
    assert.equal(denied(evaluatePolicy(p, alice, { action: 'attach', namespace: 'demo', profile: 'sysadmin' })).field, 'profile')
  })

  test('requireReason: missing or blank', () => {
    for (const reason of [undefined, '', '   ']) {
      const d = denied(evaluatePolicy(p, alice, req({ reason })))
      assert.deepEqual([d.field, d.detail], ['reason', 'a reason is required by rule "developers"'])
    }
    assert.equal(evaluatePolicy(policy(rule('r', { images: ['*'] })), alice, req({ reason: undefined })).allowed, true)
  })

  test('maxTtlSeconds: above the maximum is rejected, not capped; defaults apply when unset', () => {
    const d = denied(evaluatePolicy(p, alice, req({ ttlSeconds: 3600 })))
    assert.deepEqual([d.field, d.detail], ['ttlSeconds', 'ttlSeconds 3600 exceeds the maximum 1800 allowed by rule "developers"'])
    assert.equal(denied(evaluatePolicy(p, alice, req({ ttlSeconds: 0 }))).field, 'ttlSeconds')
    assert.equal(denied(evaluatePolicy(p, alice, req({ ttlSeconds: 1.5 }))).field, 'ttlSeconds')
    const at = (r: PolicyDecision): number => (r.allowed ? r.ttlSeconds : -1)
    assert.equal(at(evaluatePolicy(p, alice, req({ ttlSeconds: 1800 }))), 1800)
    assert.equal(at(evaluatePolicy(p, alice, req())), 1800, 'fallback 3600 capped at the max')
    assert.equal(at(evaluatePolicy(p, alice, req({ defaultTtlSeconds: 900 }))), 900, 'caller default')
    const withDefault = policy(rule('d', { images: ['*'], maxTtlSeconds: 7200, defaultTtlSeconds: 600 }))
    assert.equal(at(evaluatePolicy(withDefault, alice, req({ defaultTtlSeconds: 900 }))), 600, 'rule default wins')
  })

  test('sessionGrant is the rule, TTL and session limit evaluate grants, known before the spec exists; undefined without a matching rule', () => {
    const withDefault = compilePolicy(policy(rule('d', { images: ['*'], maxTtlSeconds: 7200, defaultTtlSeconds: 600 })))
    const where = { action: 'ephemeral' as const, namespace: 'demo' }
    for (const asked of [{}, { ttlSeconds: 1200 }, { defaultTtlSeconds: 900 }]) {
      const decision = withDefault.evaluate(alice, req({ ...asked, reason: 'r' }))
      assert.equal(decision.allowed, true)
      assert.ok(decision.allowed)
      assert.deepEqual(withDefault.sessionGrant(alice, { ...where, ...asked }), { rule: decision.rule, ttlSeconds: decision.ttlSeconds, maxSessionsPerUser: decision.maxSessionsPerUser })
    }
    assert.equal(withDefault.sessionGrant(alice, where)?.ttlSeconds, 600)
    assert.equal(withDefault.sessionGrant(eve, where), undefined, 'eve is in no rule')
    assert.equal(compilePolicy(p).sessionGrant(alice, { ...where, defaultTtlSeconds: 900 })?.ttlSeconds, 900)
  })

  test('all violations are listed; field/detail name the first', () => {
    const d = evaluatePolicy(p, alice, req({ images: ['evil'], privileged: true, reason: '' }))
    assert.equal(d.allowed, false)
    if (!d.allowed) {
      assert.deepEqual(d.violations.map((v) => v.field), ['privileged', 'image', 'reason'])
      assert.equal(d.field, 'privileged')
    }
  })
})

describe('schema, validation and the default policy', () => {
  test('schema defaults fill a minimal rule', () => {
    const r = rule('min')
    assert.deepEqual(r.allow, { images: [], capabilities: [], profiles: ['general', 'baseline', 'restricted'], privileged: false, nodeDebug: false, maxTtlSeconds: 3600, requireReason: false, maxSessionsPerUser: 3, podSecurity: 'baseline', attachOthers: false, secretEnv: false })
    assert.ok(Value.Check(PolicySchema, { rules: [r] }))
    assert.ok(!Value.Check(PolicySchema, { rules: [{ ...r, allow: { ...r.allow, profiles: ['bogus'] } }] }))
    assert.ok(!Value.Check(PolicySchema, { rules: [{ ...r, allow: { ...r.allow, actions: ['delete'] } }] }))
    assert.ok(!Value.Check(PolicySchema, { rules: [{ ...r, extra: 1 }] }))
  })

  test('validatePolicy reports what the schema cannot', () => {
    const problems = validatePolicy(policy(
      rule('a', { images: ['Bad Ref'], maxTtlSeconds: 60, defaultTtlSeconds: 120 }),
      rule('a'),
      rule('all', {}, {}),
      rule('late')
    ))
    assert.equal(problems.length, 4, problems.join('\n'))
    assert.match(problems[0] ?? '', /rules\[0\].*images: "Bad Ref" is not a valid image reference/)
    assert.match(problems[1] ?? '', /defaultTtlSeconds 120 exceeds maxTtlSeconds 60/)
    assert.match(problems[2] ?? '', /rules\[1\].*duplicate rule name/)
    assert.match(problems[3] ?? '', /rules\[3\].*unreachable, rule "all"/)
    assert.deepEqual(validatePolicy(defaultPolicy), [])
  })

  test('the default policy is valid, frozen, and its YAML round-trips', () => {
    assert.ok(Value.Check(PolicySchema, defaultPolicy), JSON.stringify([...Value.Errors(PolicySchema, defaultPolicy)]))
    assert.ok(Object.isFrozen(defaultPolicy.rules[0]?.allow.images))
    assert.deepEqual(parseYaml(defaultPolicyYaml()), { policy: defaultPolicy })
  })

  test('default policy: developers', () => {
    const c = compilePolicy(defaultPolicy)
    for (const image of ['busybox', 'busybox:1.36', 'alpine:3.20', 'nicolaka/netshoot:v0.13', 'wbitt/network-multitool', 'registry.k8s.io/e2e-test-images/agnhost:2.39', `busybox@${DIGEST}`]) {
      assert.equal(c.evaluate(alice, req({ images: [image] })).allowed, true, image)
    }
    assert.deepEqual(c.evaluate(alice, req({ capabilities: ['SYS_PTRACE', 'NET_ADMIN', 'NET_RAW'], profile: 'netadmin' })),
      { allowed: true, rule: 'developers', ttlSeconds: 3600, maxSessionsPerUser: 3 })
    assert.equal(c.evaluate(alice, req({ images: [`quay.io/evil/tool@${DIGEST}`] })).allowed, false)
    assert.equal(c.evaluate(alice, req({ images: ['ubuntu'] })).allowed, false)
    assert.equal(c.evaluate(alice, req({ capabilities: ['SYS_ADMIN'] })).allowed, false)
    assert.equal(c.evaluate(alice, req({ privileged: true })).allowed, false)
    assert.equal(c.evaluate(alice, req({ profile: 'sysadmin' })).allowed, false)
    assert.equal(c.evaluate(alice, req({ action: 'node', node: 'n1' })).allowed, false)
    assert.equal(c.evaluate(alice, req({ reason: undefined })).allowed, false)
    assert.equal(c.evaluate(alice, req({ ttlSeconds: 7200 })).allowed, false)
    assert.equal(c.evaluate(alice, req({ action: 'attach', images: [] })).allowed, true)
  })

  test('default policy: sre', () => {
    const c = compilePolicy(defaultPolicy)
    assert.deepEqual(c.evaluate(sam, req({ action: 'node', node: 'n1', images: [`quay.io/any/tool@${DIGEST}`], capabilities: ['SYS_ADMIN'], privileged: true, profile: 'sysadmin', hostNamespaces: true, hostPathMounts: true, ttlSeconds: 14400 })),
      { allowed: true, rule: 'sre', ttlSeconds: 14400, maxSessionsPerUser: 10 })
    assert.equal(c.evaluate(sam, req({ images: ['quay.io/any/tool:latest'] })).allowed, false, 'unpinned arbitrary images are not allowed')
    assert.equal(c.evaluate(sam, req({ ttlSeconds: 14401 })).allowed, false)
    assert.equal(c.evaluate(sam, req({ capabilities: ['ALL'] })).allowed, false)
    const d = c.evaluate(sam, req())
    assert.equal(d.allowed && d.ttlSeconds, 3600)
    assert.equal(d.allowed && d.rule, 'sre')
    assert.equal(denied(c.evaluate(eve, req({ namespace: 'x' }))).field, 'subject')
  })
})

test('image pattern expansion', () => {
  assert.deepEqual(['busybox:*', 'nicolaka/*:*', 'docker.io/busybox:*', 'index.docker.io/library/alpine:*', 'docker.io/**', 'quay.io/x/*', '*/busybox', 'localhost:5000/a:*'].map(expandImagePattern),
    ['docker.io/library/busybox:*', 'docker.io/nicolaka/*:*', 'docker.io/library/busybox:*', 'docker.io/library/alpine:*', 'docker.io/**', 'quay.io/x/*', '*/busybox', 'localhost:5000/a:*'])
})
