#!/usr/bin/env node
// The `kdebug` and `kubectl-kdebug` executables (kubectl runs kubectl-kdebug
// for `kubectl kdebug …`, see kubernetes/kubectl pkg/cmd/plugin/plugin.go).
import { run } from './run.ts'
import { processTerminal } from './terminal.ts'

// `kdebug sessions | head -1`: a reader that went away is no error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw err })

const code = await run({
  argv: process.argv.slice(2),
  programPath: process.argv[1],
  env: process.env,
  io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, terminal: processTerminal() }
})
// Writes to pipes and terminals are synchronous on Linux; the callback covers the rest before exiting
// (an open stdin or a follow stream must not keep the process alive).
process.stdout.write('', () => process.exit(code))
