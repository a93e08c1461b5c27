// The command-line syntax the simulated shell understands: enough of sh for
// debugging one-liners (`sh -c 'a && b; c'`), nothing more.

/** One simple command and the list operator that follows it. */
export interface Command { argv: string[], toStderr: boolean, op: ';' | '&&' | '||' }

/**
 * Splits a command line into simple commands: words with '…' / "…" quoting, backslash escapes,
 * `$NAME` / `${NAME}` / `$?` expansion, `;` `&&` `||` lists, `# comments` and the `>&2` / `1>&2`
 * redirection (`2>&1` is accepted and ignored). Pipes are not supported.
 */
export function parseCommandLine (line: string, lookup: (name: string) => string): Command[] {
  const cmds: Command[] = []
  let argv: string[] = []
  let toStderr = false
  let word = ''
  let inWord = false
  let quoted = false
  const endWord = (): void => {
    if (!inWord) return
    if (!quoted && (word === '>&2' || word === '1>&2')) toStderr = true
    else if (!quoted && word === '2>&1') { /* stderr already goes where stdout goes for the sim */ } else argv.push(word)
    word = ''
    inWord = false
    quoted = false
  }
  const endCommand = (op: Command['op']): void => {
    endWord()
    if (argv.length > 0 || op !== ';') cmds.push({ argv, toStderr, op })
    argv = []
    toStderr = false
  }
  const expand = (i: number): [string, number] => {
    const rest = line.slice(i + 1)
    if (rest.startsWith('?')) return [lookup('?'), i + 2]
    const braced = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(rest)
    if (braced) return [lookup(braced[1] as string), i + 1 + braced[0].length]
    const plain = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)
    if (plain) return [lookup(plain[0]), i + 1 + plain[0].length]
    return ['$', i + 1]
  }
  let i = 0
  while (i < line.length) {
    const c = line[i] as string
    if (c === ' ' || c === '\t' || c === '\r') { endWord(); i++; continue }
    if (c === '#' && !inWord) break
    if (c === ';') { endCommand(';'); i++; continue }
    if (c === '&' && line[i + 1] === '&') { endCommand('&&'); i += 2; continue }
    if (c === '|' && line[i + 1] === '|') { endCommand('||'); i += 2; continue }
    if (c === '|') throw new Error('pipes are not supported by the simulated shell')
    inWord = true
    if (c === '\\') { word += line[i + 1] ?? ''; i += 2; continue }
    if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end === -1) throw new Error('unterminated quoted string')
      word += line.slice(i + 1, end)
      quoted = true
      i = end + 1
      continue
    }
    if (c === '"') {
      quoted = true
      i++
      for (;;) {
        if (i >= line.length) throw new Error('unterminated quoted string')
        const d = line[i] as string
        if (d === '"') { i++; break }
        if (d === '\\' && '"\\$`'.includes(line[i + 1] ?? '')) { word += line[i + 1]; i += 2; continue }
        if (d === '$') { const [v, next] = expand(i); word += v; i = next; continue }
        word += d
        i++
      }
      continue
    }
    if (c === '$') { const [v, next] = expand(i); word += v; i = next; continue }
    word += c
    i++
  }
  endCommand(';')
  return cmds
}
