// The policy shipped by default (config key `policy`), printable as YAML for
// the README with `defaultPolicyYaml()`.
//
// - `sre` (group `sre`): the common debug images at any tag or digest, plus
//   any image pinned by digest (a digest says exactly what runs); SYS_PTRACE,
//   NET_ADMIN, NET_RAW, SYS_ADMIN; every profile; privileged and node
//   debugging (host access), Pod Security level `privileged`, Secrets in the
//   debug container, other people's sessions; up to 4 h (1 h unless asked);
//   10 sessions.
// - `developers` (group `dev`): the common debug images at any tag or digest;
//   Pod Security `baseline` plus SYS_PTRACE, NET_ADMIN, NET_RAW; profiles
//   general, baseline, restricted, netadmin; nothing privileged, no host
//   access (not even through the pod they debug), no Secrets, only their own
//   sessions; up to 1 h; 3 sessions.
// Ephemeral containers of busybox, alpine and netshoot end at their expiry
// (`expiryWrapper`, see policy.ts). Both require a reason: the trail is only useful if it says why, and typing
// one line costs nothing even during an incident. Nobody else matches, so
// everyone else is denied — including `system:authenticated`: access is
// granted to named groups only.

import { stringify } from 'yaml'
import { DEFAULT_EXPIRY_WRAPPERS, type Policy } from './config-schema.ts'

export const COMMON_DEBUG_IMAGES = [
  'docker.io/library/busybox',
  'docker.io/library/alpine',
  'docker.io/nicolaka/netshoot',
  'docker.io/wbitt/network-multitool',
  'registry.k8s.io/e2e-test-images/agnhost'
] as const

/** Every tag and every digest of a repository. */
function anyVersion (repo: string): string[] {
  return [`${repo}:*`, `${repo}@sha256:*`]
}

function deepFreeze<T> (o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}

export const defaultPolicy: Policy = deepFreeze({
  rules: [
    {
      name: 'sre',
      description: 'Site reliability engineers: node debugging and privileged containers allowed.',
      match: { groups: ['sre'] },
      allow: {
        images: [...COMMON_DEBUG_IMAGES.flatMap(anyVersion), '**@sha256:*'],
        capabilities: ['SYS_PTRACE', 'NET_ADMIN', 'NET_RAW', 'SYS_ADMIN'],
        profiles: ['legacy', 'general', 'baseline', 'restricted', 'netadmin', 'sysadmin'],
        privileged: true,
        nodeDebug: true,
        podSecurity: 'privileged',
        attachOthers: true,
        secretEnv: true,
        maxTtlSeconds: 4 * 3600,
        defaultTtlSeconds: 3600,
        requireReason: true,
        maxSessionsPerUser: 10
      }
    },
    {
      name: 'developers',
      description: 'Developers: common debug images, network and ptrace capabilities, no privileged or node access.',
      match: { groups: ['dev'] },
      allow: {
        images: COMMON_DEBUG_IMAGES.flatMap(anyVersion),
        capabilities: ['SYS_PTRACE', 'NET_ADMIN', 'NET_RAW'],
        profiles: ['general', 'baseline', 'restricted', 'netadmin'],
        privileged: false,
        nodeDebug: false,
        podSecurity: 'baseline',
        attachOthers: false,
        secretEnv: false,
        maxTtlSeconds: 3600,
        requireReason: true,
        maxSessionsPerUser: 3,
        actions: ['ephemeral', 'copy', 'attach', 'logs']
      }
    }
  ],
  expiryWrapper: structuredClone(DEFAULT_EXPIRY_WRAPPERS)
})

/** The default policy as YAML (for the README and `--print-default-policy`-style tooling). */
export function defaultPolicyYaml (): string {
  return stringify({ policy: defaultPolicy })
}
