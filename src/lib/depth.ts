// Nesting depth of parsed JSON, measured without recursion so that a hostile
// document cannot overflow the stack of the code that checks it.

/** True when `value` nests arrays/objects deeper than `limit` levels (a scalar is depth 0). */
export function exceedsDepth (value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number]
    if (typeof v !== 'object' || v === null) continue
    if (depth + 1 > limit) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return false
}
