import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, describeConfig, ConfigError, configFileFrom } from '../../src/config.ts'
import { renderConfigTable, replaceConfigTable } from '../../src/config-docs.ts'

const dir = mkdtempSync(join(tmpdir(), 'kdebug-config-'))

test('defaults load with no input', () => {
  const c = loadConfig({})
  assert.equal(c.server.port, 8080)
  assert.equal(c.authentication.mode, 'tokenreview')
  assert.equal(c.authorization.allowTtlSeconds, 10)
  assert.ok(c.policy.rules.length > 0, 'a default policy ships')
})

test('env vars are derived from the key path and coerced by type', () => {
  const c = loadConfig({ KDEBUG_SERVER_PORT: '9090', KDEBUG_SERVER_TRUST_PROXY: 'true', KDEBUG_AUDIT_FILE: 'null', KDEBUG_AUDIT_STDOUT: '1' })
  assert.equal(c.server.port, 9090)
  assert.equal(c.server.trustProxy, true)
  assert.equal(c.audit.file, null)
  assert.equal(c.audit.stdout, true)
})

test('file < env precedence, YAML file via --config or KDEBUG_CONFIG', () => {
  const file = join(dir, 'c.yaml')
  writeFileSync(file, 'server:\n  port: 7000\n  host: 127.0.0.1\nlogging:\n  level: debug\n')
  const c = loadConfig({ KDEBUG_SERVER_PORT: '7001' }, ['--config', file])
  assert.equal(c.server.port, 7001)
  assert.equal(c.server.host, '127.0.0.1')
  assert.equal(c.logging.level, 'debug')
  assert.equal(configFileFrom([], { KDEBUG_CONFIG: file }), file)
  assert.equal(configFileFrom([`--config=${file}`], {}), file)
})

test('a bad value fails naming the key', () => {
  assert.throws(() => loadConfig({ KDEBUG_SERVER_PORT: 'eighty' }), (e: Error) => e instanceof ConfigError && /KDEBUG_SERVER_PORT \(server\.port\)/.test(e.message))
  assert.throws(() => loadConfig({ KDEBUG_SERVER_PORT: '70000' }), (e: Error) => e instanceof ConfigError && /server\.port/.test(e.message))
  const file = join(dir, 'bad.yaml')
  writeFileSync(file, 'server:\n  prot: 1\n')
  assert.throws(() => loadConfig({}, ['--config', file]), (e: Error) => e instanceof ConfigError && /invalid config at server\.prot: Unexpected property/.test(e.message))
  writeFileSync(file, 'authentication:\n  mode: kerberos\n')
  assert.throws(() => loadConfig({}, ['--config', file]), (e: Error) => /authentication\.mode/.test(e.message))
  assert.throws(() => loadConfig({}, ['--config', join(dir, 'missing.yaml')]), (e: Error) => /ENOENT/.test(e.message))
})

test('every key has an env var, a description, and is in the README table', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  for (const k of describeConfig()) {
    assert.match(k.env, /^KDEBUG_[A-Z0-9_]+$/)
    assert.ok(k.description.length > 0, `${k.path} needs a description`)
  }
  assert.equal(replaceConfigTable(readme, renderConfigTable()), readme, 'README config table is stale: run npm run docs:config')
})

test('policy rules are checked beyond their types: duplicates and unreachable rules fail at start', () => {
  const rule = { name: 'everyone', match: {}, allow: { images: ['busybox:*'], capabilities: [], profiles: ['general'], privileged: false, nodeDebug: false, maxTtlSeconds: 600, requireReason: false, maxSessionsPerUser: 1 } }
  const file = join(dir, 'policy.yaml')
  writeFileSync(file, JSON.stringify({ policy: { rules: [rule, { ...rule, name: 'later', match: { groups: ['x'] } }] } }))
  assert.throws(() => loadConfig({}, ['--config', file]), (e: Error) => e instanceof ConfigError && /unreachable/.test(e.message))
  writeFileSync(file, JSON.stringify({ policy: { rules: [{ ...rule, match: { groups: ['a'] } }, { ...rule, match: { groups: ['b'] } }] } }))
  assert.throws(() => loadConfig({}, ['--config', file]), (e: Error) => /duplicate rule name/.test(e.message))
})

test('a rule may allow at most 1,000 sessions per user (a user\'s ledger is one Lease annotation): more fails at start naming the field', () => {
  const rule = { name: 'everyone', match: {}, allow: { images: ['busybox:*'], capabilities: [], profiles: ['general'], privileged: false, nodeDebug: false, maxTtlSeconds: 600, requireReason: false, maxSessionsPerUser: 1001 } }
  const file = join(dir, 'policy-max.yaml')
  writeFileSync(file, JSON.stringify({ policy: { rules: [rule] } }))
  assert.throws(() => loadConfig({}, ['--config', file]), (e: Error) => e instanceof ConfigError && /maxSessionsPerUser/.test(e.message))
  writeFileSync(file, JSON.stringify({ policy: { rules: [{ ...rule, allow: { ...rule.allow, maxSessionsPerUser: 1000 } }] } }))
  assert.equal(loadConfig({}, ['--config', file]).policy.rules[0]?.allow.maxSessionsPerUser, 1000)
})
