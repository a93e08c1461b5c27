// The pod subresources served over plain HTTP (pkg/registry/core/pod/storage):
// status, log, ephemeralcontainers, and attach without an Upgrade header.
import type { KObject } from '../../apimachinery/types.ts'
import type { ResourceRequest } from '../context.ts'
import { badRequest, conflict, methodNotSupported } from '../../apimachinery/status.ts'
import { podPatchMeta } from '../../registry/patch-meta.ts'
import { present, type ResourceDefinition } from '../../registry/definitions.ts'
import { checkBodyScope } from '../../registry/strategy.ts'
import { pickContainer, requireHost, requireStarted } from '../../registry/pod-strategy.ts'
import { applyPatch } from '../../registry/patch.ts'
import { recordWrite } from '../../registry/managed-fields.ts'
import { defaultEphemeralContainers } from '../../admission/pod-defaults.ts'
import { prepareEphemeralContainersUpdate, validateEphemeralContainersUpdate } from '../../admission/pod-validation.ts'
import { serveLogs } from '../../kubelet/logs.ts'
import { decodeObject, mediaType, queryBool, readBody, sendJSON } from '../http-util.ts'
import { admitPodSecurity } from './admission.ts'
import { isDryRun, writeOf } from './request.ts'

export async function handlePodSubresource (r: ResourceRequest, d: ResourceDefinition): Promise<boolean> {
  const { ctx, info, url } = r
  const ns = info.namespace
  const name = info.name
  switch (info.subresource) {
    case 'ephemeralcontainers': return ephemeralContainers(r, d)
    case 'status': {
      if (info.verb === 'get') {
        sendJSON(r.res, 200, present(d, ctx.store.mustGet('pods', ns, name)))
        return true
      }
      if (info.verb !== 'patch' && info.verb !== 'update') throw methodNotSupported('pods/status', info.verb)
      const body = await readBody(r.req)
      const old = ctx.store.mustGet('pods', ns, name)
      const incoming = info.verb === 'patch' ? applyPatch(present(d, old), mediaType(r.req), body, d.patchMeta) : decodeObject(r.req, body)
      if (incoming.metadata.resourceVersion && incoming.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict('pods', name, 'the object has been modified; please apply your changes to the latest version and try again')
      // status strategy: only status changes are kept
      const next = structuredClone(old)
      next.status = incoming.status
      recordWrite(next, old, writeOf(r, d, 'status'))
      const stored = isDryRun(url) ? next : ctx.store.update('pods', next)
      sendJSON(r.res, 200, present(d, stored))
      return true
    }
    case 'log': {
      if (info.verb !== 'get') throw methodNotSupported('pods/log', info.verb)
      const pod = ctx.store.mustGet('pods', ns, name)
      const container = pickContainer(pod, url.searchParams.get('container'))
      requireHost(pod)
      requireStarted(pod, container)
      const num = (k: string): number | undefined => {
        const v = url.searchParams.get(k)
        return v !== null && /^\d+$/.test(v) ? Number(v) : undefined
      }
      serveLogs(r.res, ctx.processes.get(ns, name, container), { follow: queryBool(url.searchParams.get('follow')), tailLines: num('tailLines'), sinceSeconds: num('sinceSeconds'), timestamps: queryBool(url.searchParams.get('timestamps')), limitBytes: num('limitBytes'), pod: name, container })
      return true
    }
    case 'attach': {
      // reached only without an Upgrade header: AttachLocation's checks run first, then the
      // upgrade-aware proxy answers NewBadRequest("Upgrade request required")
      const pod = ctx.store.mustGet('pods', ns, name)
      pickContainer(pod, url.searchParams.get('container'))
      requireHost(pod)
      throw badRequest('Upgrade request required')
    }
  }
  return false
}

async function ephemeralContainers (r: ResourceRequest, d: ResourceDefinition): Promise<boolean> {
  const { ctx, info } = r
  const ns = info.namespace
  const name = info.name
  if (info.verb === 'get') {
    sendJSON(r.res, 200, present(d, ctx.store.mustGet('pods', ns, name)))
    return true
  }
  if (info.verb !== 'patch' && info.verb !== 'update') throw methodNotSupported('pods/ephemeralcontainers', info.verb)
  const body = await readBody(r.req)
  const old = ctx.store.mustGet('pods', ns, name)
  let incoming: KObject
  if (info.verb === 'patch') {
    incoming = applyPatch(present(d, old), mediaType(r.req), body, podPatchMeta)
  } else {
    incoming = decodeObject(r.req, body)
    checkBodyScope(d, incoming, ns, name)
  }
  const wantRV = incoming.metadata.resourceVersion
  if (wantRV && wantRV !== old.metadata.resourceVersion) throw conflict('pods', name, 'the object has been modified; please apply your changes to the latest version and try again')
  let next = prepareEphemeralContainersUpdate(old, incoming)
  next = defaultEphemeralContainers(next)
  validateEphemeralContainersUpdate(next, old)
  admitPodSecurity(r, next, old, 'ephemeralcontainers')
  recordWrite(next, old, writeOf(r, d, 'ephemeralcontainers'))
  if (isDryRun(r.url)) {
    sendJSON(r.res, 200, present(d, next))
    return true
  }
  const stored = ctx.store.update('pods', next, { expectedResourceVersion: old.metadata.resourceVersion })
  ctx.lifecycle.ephemeralAdded(stored)
  sendJSON(r.res, 200, present(d, stored))
  return true
}
