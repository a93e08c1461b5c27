// Test helpers for the kubectl-equivalent builders (src/debug/kubectl).
import { SUFFIX_ALPHABET } from '../../src/debug/kubectl/names.ts'
import type { Pod, RandomSource } from '../../src/kube/types.ts'

/**
 * A random source that makes randomSuffix return the given strings in turn. Stands in for
 * kubectl's test nameSuffixFunc (which returns "1", "2", …, not in the alphabet).
 */
export function suffixes (...values: string[]): RandomSource {
  const chars = values.join('').split('')
  let i = 0
  return () => {
    const c = chars[i++]
    if (c === undefined) throw new Error('random source exhausted')
    const index = SUFFIX_ALPHABET.indexOf(c)
    if (index < 0) throw new Error(`${c} is not in the suffix alphabet`)
    return (index + 0.5) / SUFFIX_ALPHABET.length
  }
}

/** A pod with only what a test names; `spec.containers` defaults to []. */
export function pod (metadata: Pod['metadata'], spec: Partial<Pod['spec']> = {}): Pod {
  return { metadata, spec: { containers: [], ...spec } }
}

/** The header of every pod the builders create. */
export const POD = { apiVersion: 'v1', kind: 'Pod' } as const
