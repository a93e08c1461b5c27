// Generated names, as kubectl makes them (staging/src/k8s.io/kubectl/pkg/cmd/debug/debug.go).
import type { Pod, RandomSource } from '../../kube/types.ts'

/** apimachinery pkg/util/rand: no vowels, so generated names don't spell words. */
export const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'

/** Pod names are DNS-1123 subdomains (ValidatePodName), so 253 characters, not 63. */
export const MAX_POD_NAME = 253

/** utilrand.String(n) with an injectable random source. */
export function randomSuffix (n: number, rand: RandomSource = Math.random): string {
  let out = ''
  for (let i = 0; i < n; i++) {
    const index = Math.min(SUFFIX_ALPHABET.length - 1, Math.floor(rand() * SUFFIX_ALPHABET.length))
    out += SUFFIX_ALPHABET[index]
  }
  return out
}

/** Every container name in the pod: containers, initContainers and ephemeralContainers. */
export function containerNames (pod: Pod): Set<string> {
  const spec = pod.spec
  const names = new Set<string>()
  for (const c of spec.containers ?? []) names.add(c.name)
  for (const c of spec.initContainers ?? []) names.add(c.name)
  for (const c of spec.ephemeralContainers ?? []) names.add(c.name)
  return names
}

/** computeDebugContainerName: `debugger-xxxxx`, regenerated until it collides with no container of the pod. */
export function debugContainerName (pod: Pod, rand?: RandomSource): string {
  const taken = containerNames(pod)
  let name = ''
  while (name === '' || taken.has(name)) name = `debugger-${randomSuffix(5, rand)}`
  return name
}

/**
 * `node-debugger-<node>-xxxxx` (generateNodeDebugPod). kubectl does not shorten it; we cut the
 * node part only when the result would exceed the 253-character pod name limit (node names may be
 * 253 long), which no real node name reaches.
 */
export function nodeDebugPodName (node: string, rand?: RandomSource): string {
  return `node-debugger-${fit(node, MAX_POD_NAME - 'node-debugger--xxxxx'.length)}-${randomSuffix(5, rand)}`
}

/** Default name of a pod copy: `<pod>-debug-xxxxx` (kubectl requires --copy-to instead). */
export function podCopyName (pod: string, rand?: RandomSource): string {
  return `${fit(pod, MAX_POD_NAME - '-debug-xxxxx'.length)}-debug-${randomSuffix(5, rand)}`
}

/** Cut to `max` characters without leaving a trailing '-' or '.', which a DNS name may not end with. */
function fit (name: string, max: number): string {
  if (name.length <= max) return name
  return name.slice(0, max).replace(/[-.]+$/, '')
}
