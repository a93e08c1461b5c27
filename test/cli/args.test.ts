// The CLI's pure parts: command-line parsing, durations, problem lines, tables.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseCommandLine, parseDuration, parsePairs } from '../../src/cli/args.ts'
import { COMMANDS } from '../../src/cli/commands/index.ts'
import { problemLine, sanitize, UsageError } from '../../src/cli/errors.ts'
import { exitCodeForStatus, EXIT } from '../../src/cli/exit-codes.ts'
import { shortDuration, table } from '../../src/cli/output.ts'
import { programName } from '../../src/cli/run.ts'
import { commandHelp } from '../../src/cli/help.ts'

const specs = COMMANDS.map(c => c.spec)
const parse = (argv: string[]): ReturnType<typeof parseCommandLine> => parseCommandLine(argv, specs)

test('the command name is found among global flags, and flag values are never taken for it', () => {
  const p = parse(['-n', 'demo', '--server', 'http://gw', 'debug', 'web', '--image', 'busybox', '-it'])
  assert.equal(p.command, 'debug')
  assert.deepEqual(p.positionals, ['web'])
  assert.equal(p.values.namespace, 'demo')
  assert.equal(p.values.image, 'busybox')
  assert.equal(p.values.stdin, true)
  assert.equal(p.values.tty, true)
  assert.equal(p.rest, undefined)
})

test('words after -- are the container command, kept apart from POD (flags there are not parsed)', () => {
  const p = parse(['debug', 'web', '--image', 'busybox', '--', 'sh', '-c', 'exit 3'])
  assert.deepEqual(p.positionals, ['web'])
  assert.deepEqual(p.rest, ['sh', '-c', 'exit 3'])
})

test('repeatable flags and --no- negation', () => {
  const p = parse(['copy', 'api', '--image', 'b', '--cap', 'NET_ADMIN', '--cap', 'SYS_PTRACE', '--no-share-processes', '--as', 'alice', '--as-group', 'dev'])
  assert.deepEqual(p.values.cap, ['NET_ADMIN', 'SYS_PTRACE'])
  assert.equal(p.values['share-processes'], false)
  assert.deepEqual(p.values['as-group'], ['dev'])
})

test('usage errors name the flag, the command or the missing argument', () => {
  const err = (argv: string[]): UsageError => {
    try { parse(argv) } catch (e) { assert.ok(e instanceof UsageError); return e }
    assert.fail(`no error for ${argv.join(' ')}`)
  }
  assert.match(err(['debug', 'web', '--bogus']).message, /--bogus/)
  assert.equal(err(['debug', 'web', '--bogus']).command, 'debug')
  assert.match(err(['frobnicate']).message, /unknown command "frobnicate"/)
  assert.match(err(['debug']).message, /missing POD/)
  assert.match(err(['debug', 'web', 'extra']).message, /unexpected argument "extra".*after --/)
  assert.match(err(['sessions', '--', 'x']).message, /no command after --/)
  assert.match(err(['logs', 'web', '-n']).message, /-n, --namespace/)
  assert.equal(err(['debug']).exitCode, EXIT.usage)
})

test('--help needs no positionals; no command is no error with --help', () => {
  assert.equal(parse(['debug', '--help']).values.help, true)
  assert.equal(parse(['--help']).command, undefined)
})

test('durations: Go style like kubectl, or whole seconds', () => {
  assert.equal(parseDuration('90', 'ttl'), 90)
  assert.equal(parseDuration('30s', 'ttl'), 30)
  assert.equal(parseDuration('1h30m', 'ttl'), 5400)
  assert.equal(parseDuration('1.5h', 'ttl'), 5400)
  assert.equal(parseDuration('500ms', 'ttl'), 0.5)
  for (const bad of ['', '5 m', '5d', 'm', '1h-3m', '-5s']) assert.throws(() => parseDuration(bad, 'ttl'), /--ttl/)
})

test('KEY=VALUE pairs keep = in values and refuse a missing key', () => {
  assert.deepEqual(parsePairs(['A=b=c', 'E='], 'env'), [['A', 'b=c'], ['E', '']])
  assert.throws(() => parsePairs(['=x'], 'env'), /--env: "=x"/)
})

test('a problem is one line: title, status, detail, then rule/field/permission/request id', () => {
  const line = problemLine(403, {
    title: 'Denied by policy',
    detail: 'capability SYS_ADMIN is not allowed by rule "developers"',
    rule: 'developers',
    field: '/body/capabilities',
    errors: [{ field: '/body/capabilities' }, { field: 'securityContext.capabilities' }],
    requestId: 'r-1'
  })
  assert.equal(line, 'Denied by policy (403): capability SYS_ADMIN is not allowed by rule "developers" [rule developers; field /body/capabilities; fields securityContext.capabilities; request r-1]')
  assert.equal(problemLine(403, { title: 'Forbidden', detail: 'no', permission: 'create pods/ephemeralcontainers' }), 'Forbidden (403): no [permission create pods/ephemeralcontainers]')
  assert.equal(problemLine(502, {}), 'HTTP 502 (502)')
})

test('server text cannot move the cursor, ring bells or break the line', () => {
  assert.equal(sanitize('a\u001b[2Jb\nc\u0007d\u009be'), 'a [2Jb c d e')
  const line = problemLine(400, { title: 'x\u001b]0;pwned\u0007', detail: 'line1\nline2' })
  assert.ok(!line.includes('\n') && !line.includes('\u001b') && !line.includes('\u0007'), line)
})

test('exit codes per status are distinct for authn, authz, unavailability and the rest', () => {
  assert.deepEqual([400, 401, 403, 404, 409, 429, 500, 503].map(exitCodeForStatus), [1, 3, 4, 1, 1, 1, 5, 5])
})

test('tables pad columns and show <none> for empty cells; short durations like kubectl', () => {
  assert.equal(table(['id', 'state'], [['a', 'running'], ['bbbb', undefined]]), 'ID     STATE\na      running\nbbbb   <none>\n')
  assert.deepEqual([5, 119, 120, 7199, 7200, 172799, 172800].map(shortDuration), ['5s', '119s', '2m', '119m', '2h', '47h', '2d'])
})

test('the program name follows the executable: kubectl-kdebug is "kubectl kdebug"', () => {
  assert.equal(programName('/usr/local/bin/kubectl-kdebug'), 'kubectl kdebug')
  assert.equal(programName('/usr/local/bin/kdebug'), 'kdebug')
  assert.equal(programName('/x/src/cli/main.ts'), 'kdebug')
  assert.match(commandHelp('kubectl kdebug', specs.find(s => s.name === 'debug')!), /kubectl kdebug debug web -n demo/)
})

test('every command has help with a usage line, an example and a description for every flag', () => {
  for (const spec of specs) {
    const help = commandHelp('kdebug', spec)
    assert.match(help, new RegExp(`Usage:\\n  kdebug ${spec.name}`))
    assert.ok(spec.examples.length > 0, spec.name)
    for (const [name, o] of Object.entries(spec.options)) {
      assert.ok(o.description.length > 0, `${spec.name} --${name}`)
      assert.ok(help.includes(`--${name}`), `${spec.name} --${name}`)
    }
  }
})
