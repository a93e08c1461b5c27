// A small Dockerfile reader for the image tests (no Docker engine on the
// build machines): parser directives, line continuations, comments, stages,
// and the exec (JSON) vs shell forms — enough to check the file's structure.

export interface Instruction {
  keyword: string
  /** Everything after the keyword, continuations joined with a space. */
  args: string
  /** 1-based line of the keyword. */
  line: number
}

export interface Stage {
  image: string
  name?: string
  platform?: string
  instructions: Instruction[]
}

export interface Dockerfile {
  directives: Record<string, string>
  /** Instructions before the first FROM (only ARG is allowed there). */
  preamble: Instruction[]
  stages: Stage[]
}

export function parseDockerfile (text: string): Dockerfile {
  const lines = text.split(/\r?\n/)
  const directives: Record<string, string> = {}
  let i = 0
  // Parser directives: `# key=value` lines at the very top, before anything else.
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(lines[i] as string)
    if (!m) break
    directives[(m[1] as string).toLowerCase()] = m[2] as string
  }
  const escape = directives.escape ?? '\\'
  const instructions: Instruction[] = []
  let current: { parts: string[], line: number } | undefined
  for (; i < lines.length; i++) {
    const raw = lines[i] as string
    const trimmed = raw.trim()
    // Comment lines are dropped, also inside a continued instruction.
    if (trimmed.startsWith('#')) continue
    if (current === undefined && trimmed === '') continue
    const continued = trimmed.endsWith(escape)
    const part = continued ? trimmed.slice(0, -escape.length).trim() : trimmed
    if (current === undefined) current = { parts: [], line: i + 1 }
    if (part !== '') current.parts.push(part)
    if (!continued) {
      const joined = current.parts.join(' ')
      const m = /^(\S+)\s*(.*)$/.exec(joined)
      if (m) instructions.push({ keyword: (m[1] as string).toUpperCase(), args: m[2] as string, line: current.line })
      current = undefined
    }
  }
  if (current !== undefined) throw new Error(`line ${current.line}: the file ends inside a continued instruction`)
  if (instructions.some(ins => /<<-?\w/.test(ins.args))) throw new Error('heredocs are not supported by this reader')

  const preamble: Instruction[] = []
  const stages: Stage[] = []
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/)
      const platform = words[0]?.startsWith('--platform=') ? words.shift()?.slice('--platform='.length) : undefined
      const image = words[0]
      if (image === undefined || image === '') throw new Error(`line ${ins.line}: FROM without an image`)
      const stage: Stage = { image, instructions: [] }
      if (words.length === 3 && words[1]?.toUpperCase() === 'AS') stage.name = (words[2] as string).toLowerCase()
      else if (words.length !== 1) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`)
      if (platform !== undefined) stage.platform = platform
      stages.push(stage)
    } else if (stages.length === 0) {
      preamble.push(ins)
    } else {
      (stages.at(-1) as Stage).instructions.push(ins)
    }
  }
  return { directives, preamble, stages }
}

/** The exec form's argument list, or undefined for the shell form. */
export function execForm (args: string): string[] | undefined {
  if (!args.trimStart().startsWith('[')) return undefined
  try {
    const parsed: unknown = JSON.parse(args)
    return Array.isArray(parsed) && parsed.every(a => typeof a === 'string') ? parsed : undefined
  } catch {
    return undefined
  }
}

export interface CopyArgs {
  flags: Record<string, string | true>
  sources: string[]
  dest: string
}

/** COPY/ADD arguments: `--flag[=value]` options, then sources and the destination (shell or JSON form). */
export function parseCopy (args: string): CopyArgs {
  const flags: Record<string, string | true> = {}
  let rest = args.trim()
  for (let m = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest); m; m = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest)) {
    flags[m[1] as string] = m[2] ?? true
    rest = rest.slice(m[0].length)
  }
  const words = execForm(rest) ?? rest.split(/\s+/)
  if (words.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`)
  return { flags, sources: words.slice(0, -1), dest: words.at(-1) as string }
}
