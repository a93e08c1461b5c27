// deploy/ (the Kustomize base) and deploy-overlays/example: they render
// offline, every object is valid against the Kubernetes API schemas, and the
// security and availability properties the issue asks for hold.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, test } from 'node:test'
import { parseDocument, isMap, isSeq } from 'yaml'
import type { IDeployment } from 'kubernetes-models/apps/v1'
import type { IContainer, IPodSpec, IConfigMap, INamespace, IService, IServiceAccount } from 'kubernetes-models/v1'
import type { IClusterRole, IClusterRoleBinding, IRole, IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1'
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1'
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import type { IValidatingAdmissionPolicy, IValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1'
import { describeConfig, loadConfig, type Config } from '../../src/config.ts'
import { defaultPolicy } from '../../src/policy/default.ts'
import { kubectlMissing, kustomize, only, parseManifests, readRepoFile, unknownFields, validateSchema, type KObject } from '../helpers/deploy.ts'

const missing = kubectlMissing()
const BASE = 'deploy'
const OVERLAY = 'deploy-overlays/example'
const GATEWAY = 'kdebug-gateway'

const tmp = mkdtempSync(join(tmpdir(), 'kdebug-deploy-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

function gatewayContainer (d: IDeployment): IContainer {
  const c = d.spec?.template.spec?.containers.find(x => x.name === 'gateway')
  assert.ok(c, 'the Deployment has a container named gateway')
  return c
}

function podSpec (d: IDeployment): IPodSpec {
  const s = d.spec?.template.spec
  assert.ok(s)
  return s
}

/** The env the container would see, with downward-API and secret values stood in for. */
function containerEnv (c: IContainer): Record<string, string> {
  const env: Record<string, string> = {}
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = 'kdebug-gateway-7d9f8-abcde'
    else if (e.valueFrom?.secretKeyRef) env[e.name] = 'x'.repeat(64)
    else assert.fail(`env ${e.name}: unexpected source ${JSON.stringify(e.valueFrom)}`)
  }
  return env
}

/** Loads the config exactly as the pod would: the mounted file plus the container's env. */
function configOf (objects: KObject[], name: string): Config {
  const d = only<IDeployment>(objects, 'Deployment', GATEWAY)
  const c = gatewayContainer(d)
  const env = containerEnv(c)
  const file = env.KDEBUG_CONFIG
  assert.ok(file, 'KDEBUG_CONFIG is set')
  const mount = c.volumeMounts?.find(m => m.mountPath === dirname(file))
  assert.ok(mount, `${dirname(file)} is mounted`)
  const volume = podSpec(d).volumes?.find(v => v.name === mount.name)
  const cmName = volume?.configMap?.name
  assert.ok(cmName, 'the config directory is a ConfigMap volume')
  const cm = only<IConfigMap>(objects, 'ConfigMap', cmName)
  const text = cm.data?.[file.split('/').at(-1) as string]
  assert.ok(text, `ConfigMap ${cmName} holds ${file}`)
  const local = join(tmp, `${name}.yaml`)
  writeFileSync(local, text)
  return loadConfig({ ...env, KDEBUG_CONFIG: local })
}

function portNumber (c: IContainer, port: string | number | undefined): number | undefined {
  if (typeof port === 'number') return port
  return c.ports?.find(p => p.name === port)?.containerPort
}

const SHUTDOWN_GRACE_DEFAULT = describeConfig().find(k => k.path === 'server.shutdownGraceMs')?.default as number

function selects (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v) && Object.keys(selector ?? {}).length > 0
}

const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'])

/** The checks of PodSecurity `restricted` that a Deployment like ours can violate. */
function restrictedViolations (spec: IPodSpec): string[] {
  const v: string[] = []
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) v.push('host namespaces')
  for (const vol of spec.volumes ?? []) {
    const types = Object.keys(vol).filter(k => k !== 'name')
    if (!types.every(t => RESTRICTED_VOLUME_TYPES.has(t))) v.push(`volume ${vol.name}: ${types.join(',')}`)
  }
  const podSc = spec.securityContext ?? {}
  for (const c of [...spec.initContainers ?? [], ...spec.containers]) {
    const sc = c.securityContext ?? {}
    if (sc.privileged) v.push(`${c.name}: privileged`)
    if (sc.allowPrivilegeEscalation !== false) v.push(`${c.name}: allowPrivilegeEscalation`)
    if (!(sc.runAsNonRoot ?? podSc.runAsNonRoot)) v.push(`${c.name}: runAsNonRoot`)
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) v.push(`${c.name}: runAsUser 0`)
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${c.name}: capabilities.drop ALL`)
    if ((sc.capabilities?.add ?? []).some(a => a !== 'NET_BIND_SERVICE')) v.push(`${c.name}: capabilities.add`)
    const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') v.push(`${c.name}: seccompProfile`)
    if ((c.ports ?? []).some(p => p.hostPort !== undefined)) v.push(`${c.name}: hostPort`)
  }
  return v
}

/** Checks shared by the base and the overlay. */
function commonChecks (objects: () => KObject[], name: string): void {
  test('every object is valid against the Kubernetes API schema', () => {
    assert.ok(objects().length >= 13)
    for (const o of objects()) {
      assert.doesNotThrow(() => validateSchema(o), `${o.kind} ${o.metadata.name}`)
      assert.deepEqual(unknownFields(o), [], `${o.kind} ${o.metadata.name} has fields the API does not know`)
    }
  })

  test('namespaced objects are in a namespace the kustomization creates', () => {
    const namespaces = new Set(objects().filter(o => o.kind === 'Namespace').map(o => o.metadata.name))
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'])
    for (const o of objects()) {
      if (clusterScoped.has(o.kind)) assert.equal(o.metadata.namespace, undefined, `${o.kind} is cluster-scoped`)
      else assert.ok(o.metadata.namespace && namespaces.has(o.metadata.namespace), `${o.kind} ${o.metadata.name} in ${o.metadata.namespace}`)
    }
  })

  test('the gateway container is locked down: non-root, read-only root, no privileges, RuntimeDefault seccomp', () => {
    const d = only<IDeployment>(objects(), 'Deployment', GATEWAY)
    const spec = podSpec(d)
    assert.equal(spec.securityContext?.runAsNonRoot, true)
    assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault')
    for (const c of spec.containers) {
      const sc = c.securityContext
      assert.ok(sc, `${c.name} has a securityContext`)
      assert.equal(sc.runAsNonRoot, true)
      assert.ok(typeof sc.runAsUser === 'number' && sc.runAsUser > 0, 'numeric non-root uid')
      assert.ok(typeof sc.runAsGroup === 'number' && sc.runAsGroup > 0, 'numeric non-root gid')
      assert.equal(sc.readOnlyRootFilesystem, true)
      assert.equal(sc.allowPrivilegeEscalation, false)
      assert.notEqual(sc.privileged, true)
      assert.deepEqual(sc.capabilities?.drop, ['ALL'])
      assert.equal(sc.capabilities?.add, undefined)
      assert.equal(sc.seccompProfile?.type, 'RuntimeDefault')
      assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, 'requests')
      assert.ok(c.resources?.limits?.memory, 'memory limit')
    }
    assert.deepEqual(restrictedViolations(spec), [], 'the gateway pod satisfies PodSecurity restricted')
  })

  test('probes: /healthz liveness and /readyz readiness on the gateway port', () => {
    const d = only<IDeployment>(objects(), 'Deployment', GATEWAY)
    const c = gatewayContainer(d)
    const config = configOf(objects(), `${name}-probes`)
    assert.equal(c.livenessProbe?.httpGet?.path, '/healthz')
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz')
    assert.equal(c.startupProbe?.httpGet?.path ?? '/healthz', '/healthz')
    for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      assert.equal(portNumber(c, p?.httpGet?.port), config.server.port)
    }
    assert.deepEqual(c.ports?.map(p => [p.name, p.containerPort]), [['http', config.server.port]])
    assert.equal(config.server.host, '0.0.0.0', 'listens on the pod IP, not loopback')
  })

  test('terminationGracePeriodSeconds outlasts the preStop sleep plus server.shutdownGraceMs plus the audit forwarders\' drain', () => {
    const d = only<IDeployment>(objects(), 'Deployment', GATEWAY)
    const config = configOf(objects(), `${name}-grace`)
    const sleepMs = (gatewayContainer(d).lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000
    const graceMs = (podSpec(d).terminationGracePeriodSeconds ?? 30) * 1000
    const drainMs = config.audit.drainSeconds * 1000
    assert.ok(graceMs > sleepMs + config.server.shutdownGraceMs + drainMs, `${graceMs} > ${sleepMs} + ${config.server.shutdownGraceMs} + ${drainMs}`)
    assert.ok(graceMs > sleepMs + SHUTDOWN_GRACE_DEFAULT, 'also with the default shutdown grace')
    assert.ok(gatewayContainer(d).lifecycle?.preStop?.exec === undefined, 'no exec hook: the image needs no shell')
  })

  test('audit: the disk budget fits the audit volume; the peers Service is headless and selects the gateway pods', () => {
    const d = only<IDeployment>(objects(), 'Deployment', GATEWAY)
    const config = configOf(objects(), `${name}-audit-budget`)
    const file = config.audit.file as string
    const mount = gatewayContainer(d).volumeMounts?.find(m => m.mountPath === dirname(file))
    const volume = podSpec(d).volumes?.find(v => v.name === mount?.name)
    const limit = volume?.emptyDir?.sizeLimit
    if (limit !== undefined) {
      const m = /^(\d+)(Mi|Gi)$/.exec(String(limit))
      assert.ok(m, `sizeLimit ${String(limit)} in Mi or Gi`)
      const bytes = Number(m[1]) * (m[2] === 'Gi' ? 1024 ** 3 : 1024 ** 2)
      const budget = config.audit.rotation.maxBytes * (config.audit.rotation.maxFiles + 1)
      assert.ok(budget < bytes, `disk budget ${budget} < audit volume ${bytes} (else the kubelet evicts the pod before the gateway refuses)`)
    }
    const service = config.audit.peers.service
    assert.ok(service !== null, 'audit.peers.service is set')
    const svc = only<IService>(objects(), 'Service', service.split('.')[0] as string)
    assert.equal(svc.spec?.clusterIP, 'None')
    assert.ok(selects(svc.spec?.selector, d.spec?.template.metadata?.labels))
    assert.equal(svc.spec?.ports?.[0]?.port, config.audit.peers.port)
    assert.equal(portNumber(gatewayContainer(d), svc.spec?.ports?.[0]?.targetPort as string), config.audit.peers.port)
  })

  test('the config file and env load into a valid config; the audit log is on a writable volume', () => {
    const d = only<IDeployment>(objects(), 'Deployment', GATEWAY)
    const c = gatewayContainer(d)
    const config = configOf(objects(), `${name}-config`)
    assert.equal(config.docs.enabled, false)
    assert.equal(config.authorization.mode, 'sar')
    assert.equal(config.audit.replica, 'kdebug-gateway-7d9f8-abcde', 'replica named from the pod name')
    const file = config.audit.file
    assert.ok(typeof file === 'string' && file.startsWith('/'), `absolute audit file, got ${String(file)}`)
    const mount = c.volumeMounts?.find(m => dirname(file) === m.mountPath || dirname(file).startsWith(`${m.mountPath}/`))
    assert.ok(mount, `the audit directory ${dirname(file)} is a mount (the root filesystem is read-only)`)
    assert.notEqual(mount.readOnly, true)
    const volume = podSpec(d).volumes?.find(v => v.name === mount.name)
    assert.ok(volume?.emptyDir || volume?.persistentVolumeClaim, 'audit volume is emptyDir or a PVC')
    assert.ok(c.volumeMounts?.some(m => m.mountPath === '/tmp' && m.readOnly !== true), 'writable /tmp')
    // Attach recordings, once the attach settings are part of the config.
    const recordings = (config as { attach?: { recording?: { dir?: string } } }).attach?.recording?.dir
    if (recordings !== undefined) {
      assert.ok(c.volumeMounts?.some(m => m.readOnly !== true && (recordings === m.mountPath || recordings.startsWith(`${m.mountPath}/`))),
        `attach.recording.dir ${recordings} is on a writable volume`)
    }
  })

  test('every KDEBUG_* variable of the Deployment is a config key', () => {
    const known = new Set(describeConfig().map(k => k.env))
    known.add('KDEBUG_CONFIG')
    // The attach settings are defined in src/attach/config-schema.ts; until
    // src/config.ts embeds them the gateway ignores these.
    if (![...known].some(k => k.startsWith('KDEBUG_ATTACH_'))) {
      known.add('KDEBUG_ATTACH_TICKET_SECRET')
      known.add('KDEBUG_ATTACH_RECORDING_DIR')
    }
    // Keys the config names by variable (audit.forward[].hmacKeyEnv: a Secret, never in the file).
    for (const sink of configOf(objects(), `${name}-env`).audit.forward) if (sink.type === 'webhook' && sink.hmacKeyEnv) known.add(sink.hmacKeyEnv)
    const c = gatewayContainer(only<IDeployment>(objects(), 'Deployment', GATEWAY))
    for (const e of c.env ?? []) assert.ok(known.has(e.name), `${e.name} is not a config key`)
  })

  test('the Deployment runs as the ServiceAccount that the ClusterRoleBinding binds', () => {
    const d = only<IDeployment>(objects(), 'Deployment', GATEWAY)
    const sa = only<IServiceAccount>(objects(), 'ServiceAccount', podSpec(d).serviceAccountName)
    assert.equal(sa.metadata?.namespace, d.metadata?.namespace)
    const crb = only<IClusterRoleBinding>(objects(), 'ClusterRoleBinding', GATEWAY)
    assert.deepEqual(crb.subjects, [{ kind: 'ServiceAccount', name: sa.metadata?.name, namespace: sa.metadata?.namespace }])
    assert.equal(crb.roleRef.name, only<IClusterRole>(objects(), 'ClusterRole', GATEWAY).metadata?.name)
  })

  test('selectors: the Service, PDB and NetworkPolicy select the gateway pods; topology spread by node and zone', () => {
    const d = only<IDeployment>(objects(), 'Deployment', GATEWAY)
    const podLabels = d.spec?.template.metadata?.labels
    assert.ok(selects(d.spec?.selector.matchLabels, podLabels))
    const svc = only<IService>(objects(), 'Service', GATEWAY)
    assert.ok(selects(svc.spec?.selector, podLabels))
    assert.deepEqual(svc.spec?.ports?.map(p => [p.port, p.targetPort]), [[80, 'http']])
    assert.equal(svc.spec?.type ?? 'ClusterIP', 'ClusterIP')
    assert.ok(selects(only<IPodDisruptionBudget>(objects(), 'PodDisruptionBudget', GATEWAY).spec?.selector?.matchLabels, podLabels))
    assert.ok(selects(only<INetworkPolicy>(objects(), 'NetworkPolicy', GATEWAY).spec?.podSelector.matchLabels, podLabels))
    const spread = podSpec(d).topologySpreadConstraints ?? []
    assert.deepEqual(spread.map(s => s.topologyKey).sort(), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'])
    for (const s of spread) assert.ok(selects(s.labelSelector?.matchLabels, podLabels))
    // Debug pods must never be counted as gateway replicas.
    assert.ok(!selects(d.spec?.selector.matchLabels, { 'app.kubernetes.io/managed-by': 'kdebug-gateway', 'kdebug.io/session': 's' }))
  })

  test('replicas, PodDisruptionBudget and HorizontalPodAutoscaler agree', () => {
    const d = only<IDeployment>(objects(), 'Deployment', GATEWAY)
    const pdb = only<IPodDisruptionBudget>(objects(), 'PodDisruptionBudget', GATEWAY)
    const hpa = only<IHorizontalPodAutoscaler>(objects(), 'HorizontalPodAutoscaler', GATEWAY)
    assert.equal(pdb.spec?.minAvailable, 1)
    assert.ok((d.spec?.replicas ?? 1) > 1, 'more replicas than the PDB keeps, so drains can proceed')
    assert.deepEqual(hpa.spec?.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: GATEWAY })
    assert.ok((hpa.spec?.minReplicas ?? 1) >= 2 && (hpa.spec?.minReplicas ?? 1) <= (d.spec?.replicas ?? 1))
    assert.ok(hpa.spec!.maxReplicas > (hpa.spec?.minReplicas ?? 1))
    const cpu = hpa.spec?.metrics?.find(m => m.type === 'Resource' && m.resource?.name === 'cpu')
    assert.equal(cpu?.resource?.target.type, 'Utilization')
    assert.equal(cpu?.resource?.target.averageUtilization, 70)
    assert.ok(gatewayContainer(d).resources?.requests?.cpu, 'CPU utilisation needs a CPU request')
  })

  test('NetworkPolicy: ingress only to the gateway port; egress only to the API server ports, DNS, the audit receiver and the other replicas', () => {
    const c = gatewayContainer(only<IDeployment>(objects(), 'Deployment', GATEWAY))
    const config = configOf(objects(), `${name}-np`)
    const np = only<INetworkPolicy>(objects(), 'NetworkPolicy', GATEWAY)
    assert.deepEqual(np.spec?.policyTypes, ['Ingress', 'Egress'])
    assert.ok((np.spec?.ingress ?? []).length > 0)
    for (const rule of np.spec?.ingress ?? []) {
      assert.ok(rule.ports && rule.ports.length > 0, 'every ingress rule names ports')
      for (const p of rule.ports) {
        assert.equal(p.protocol ?? 'TCP', 'TCP')
        assert.equal(portNumber(c, p.port), config.server.port)
      }
    }
    const egress = np.spec?.egress ?? []
    const podLabels = only<IDeployment>(objects(), 'Deployment', GATEWAY).spec?.template.metadata?.labels
    for (const rule of egress) {
      assert.ok(rule.ports && rule.ports.length > 0, 'every egress rule names ports')
      const toPeers = rule.to !== undefined && rule.to.length > 0 && rule.to.every(t => t.namespaceSelector === undefined && t.ipBlock === undefined && selects(t.podSelector?.matchLabels, podLabels))
      for (const p of rule.ports) {
        if (toPeers) assert.equal(p.port, config.audit.peers.port, 'to the other replicas: their HTTP port only (audit peers)')
        else assert.ok([443, 6443, 53].includes(p.port as number), `egress port ${p.port}`)
      }
    }
    if (config.audit.peers.service !== null) {
      assert.ok(egress.some(r => r.to?.some(t => selects(t.podSelector?.matchLabels, podLabels)) && r.ports?.some(p => p.port === config.audit.peers.port)), 'the other replicas are reachable for replicas=all')
    }
    const dns = egress.find(r => r.ports?.some(p => p.port === 53))
    assert.deepEqual(dns?.ports?.map(p => p.protocol).sort(), ['TCP', 'UDP'])
    assert.ok(dns?.to?.some(t => t.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns' &&
      t.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'kube-system'))
    assert.ok(egress.some(r => r.ports?.some(p => p.port === 443 || p.port === 6443)), 'the API server is reachable')
  })

  test('node debug pods: the configured namespace exists, enforces privileged and is allowed by the admission policy', () => {
    const config = configOf(objects(), `${name}-nodes`)
    const ns = only<INamespace>(objects(), 'Namespace', config.sessions.nodeDebugNamespace)
    assert.equal(ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'privileged')
    const binding = only<IValidatingAdmissionPolicyBinding>(objects(), 'ValidatingAdmissionPolicyBinding')
    const params = only<IConfigMap>(objects(), 'ConfigMap', binding.spec?.paramRef?.name)
    assert.equal(params.metadata?.namespace, binding.spec?.paramRef?.namespace)
    const nodeNamespaces = (params.data?.nodeDebugNamespaces ?? '').split(',').map(s => s.trim())
    assert.ok(nodeNamespaces.includes(config.sessions.nodeDebugNamespace))
    const protectedNs = (params.data?.protectedNamespaces ?? '').split(',').map(s => s.trim())
    assert.ok(protectedNs.includes('kube-system'))
  })

  test('the admission policy is bound, matches only the gateway service account and covers create, delete and ephemeral containers', () => {
    const vap = only<IValidatingAdmissionPolicy>(objects(), 'ValidatingAdmissionPolicy')
    const binding = only<IValidatingAdmissionPolicyBinding>(objects(), 'ValidatingAdmissionPolicyBinding')
    assert.equal(binding.spec?.policyName, vap.metadata?.name)
    assert.ok(binding.spec?.validationActions?.includes('Deny'))
    assert.equal(binding.spec?.paramRef?.parameterNotFoundAction, 'Deny')
    assert.equal(vap.spec?.failurePolicy, 'Fail')
    const sa = only<IServiceAccount>(objects(), 'ServiceAccount', GATEWAY)
    assert.deepEqual(vap.spec?.matchConditions?.map(m => m.expression),
      [`request.userInfo.username == 'system:serviceaccount:${sa.metadata?.namespace}:${sa.metadata?.name}'`])
    const rules = vap.spec?.matchConstraints?.resourceRules ?? []
    const covered = rules.flatMap(r => (r.resources ?? []).flatMap(res => (r.operations ?? []).map(op => `${op} ${res}`))).sort()
    assert.deepEqual(covered, ['CREATE pods', 'DELETE pods', 'UPDATE pods/ephemeralcontainers'])
  })
}

describe('deploy/ base', { skip: missing }, () => {
  let cache: KObject[] | undefined
  const objects = (): KObject[] => (cache ??= kustomize(BASE))

  test('renders the expected objects', () => {
    const names = objects().map(o => `${o.kind}/${o.metadata.name}`).sort()
    assert.deepEqual(names, [
      'ClusterRole/kdebug-gateway',
      'ClusterRoleBinding/kdebug-gateway',
      'ConfigMap/kdebug-gateway-admission',
      'ConfigMap/kdebug-gateway-config',
      'Deployment/kdebug-gateway',
      'HorizontalPodAutoscaler/kdebug-gateway',
      'Namespace/kdebug',
      'NetworkPolicy/kdebug-gateway',
      'PodDisruptionBudget/kdebug-gateway',
      'Role/kdebug-gateway-leases',
      'RoleBinding/kdebug-gateway-leases',
      'Service/kdebug-gateway',
      'Service/kdebug-gateway-peers',
      'ServiceAccount/kdebug-gateway',
      'ValidatingAdmissionPolicy/kdebug-gateway-pods.kdebug.io',
      'ValidatingAdmissionPolicyBinding/kdebug-gateway-pods.kdebug.io'
    ])
  })

  commonChecks(objects, 'base')

  test('2 replicas of the placeholder image, as uid/gid 1000 (the Dockerfile USER)', () => {
    const d = only<IDeployment>(objects(), 'Deployment', GATEWAY)
    assert.equal(d.spec?.replicas, 2)
    const c = gatewayContainer(d)
    assert.equal(c.image, 'ghcr.io/example/kdebug-gateway:0.1.0')
    const user = /^USER\s+(\d+):(\d+)\s*$/m.exec(readRepoFile('Dockerfile'))
    assert.ok(user, 'the Dockerfile sets a numeric USER uid:gid')
    assert.equal(c.securityContext?.runAsUser, Number(user[1]))
    assert.equal(c.securityContext?.runAsGroup, Number(user[2]))
    assert.equal(podSpec(d).securityContext?.runAsUser, Number(user[1]))
  })

  test('config: TokenReview, SAR, audit to file and stdout, and the default policy as an editable copy', () => {
    const config = configOf(objects(), 'base-defaults')
    assert.equal(config.authentication.mode, 'tokenreview')
    assert.equal(config.audit.file, '/var/lib/kdebug/audit.log')
    assert.equal(config.audit.stdout, true)
    assert.ok(config.audit.anchor.intervalSeconds > 0, 'the chain head is anchored')
    assert.equal(config.audit.anchor.namespace, 'kdebug')
    assert.equal(config.sessions.nodeDebugNamespace, 'kdebug')
    assert.deepEqual(config.policy, defaultPolicy, 'deploy/configmap.yaml policy differs from src/policy/default.ts: update one of them')
  })

  test('the base NetworkPolicy admits the gateway port from any source', () => {
    const np = only<INetworkPolicy>(objects(), 'NetworkPolicy', GATEWAY)
    assert.equal(np.spec?.ingress?.length, 1)
    assert.equal(np.spec?.ingress?.[0]?.from, undefined)
  })

  test('per-user leases: a Role in the gateway namespace with exactly get/list/watch/create/update leases, bound to the gateway SA', () => {
    const role = only<IRole>(objects(), 'Role', 'kdebug-gateway-leases')
    assert.equal(role.metadata?.namespace, 'kdebug')
    assert.deepEqual(role.rules, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update'] }])
    const rb = only<IRoleBinding>(objects(), 'RoleBinding', 'kdebug-gateway-leases')
    assert.equal(rb.metadata?.namespace, 'kdebug')
    assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kdebug-gateway-leases' })
    assert.deepEqual(rb.subjects, [{ kind: 'ServiceAccount', name: GATEWAY, namespace: 'kdebug' }])
  })

  test('the metadata signing key comes from the Secret and is required (no optional: the pod does not start without it)', () => {
    const env = gatewayContainer(only<IDeployment>(objects(), 'Deployment', GATEWAY)).env ?? []
    const key = env.find(e => e.name === 'KDEBUG_SECURITY_SIGNING_KEY')
    assert.equal(key?.value, undefined)
    assert.deepEqual(key?.valueFrom, { secretKeyRef: { name: GATEWAY, key: 'signing-key' } })
  })

  test('the rendered ClusterRole is deploy/clusterrole.yaml, and every rule there carries a comment', () => {
    const raw = readRepoFile('deploy/clusterrole.yaml')
    const [file] = parseManifests(raw)
    const rendered = only<IClusterRole>(objects(), 'ClusterRole', GATEWAY)
    assert.deepEqual(rendered.rules, (file as unknown as IClusterRole).rules)
    const doc = parseDocument(raw)
    const rules = doc.get('rules', true)
    assert.ok(isSeq(rules))
    assert.ok(rules.items.length >= 10)
    rules.items.forEach((item, i) => {
      assert.ok(isMap(item))
      const comment = (item.commentBefore ?? (i === 0 ? rules.commentBefore : undefined))?.trim()
      assert.ok(comment, `rule ${i} (${JSON.stringify(item.toJSON())}) has no comment naming the feature that needs it`)
    })
    // One permission per rule: a single API group and resource.
    for (const r of rendered.rules ?? []) {
      assert.equal(r.apiGroups?.length, 1)
      assert.equal(r.resources?.length, 1)
      assert.equal(r.resourceNames, undefined)
      assert.ok(!r.verbs.includes('*') && !(r.resources ?? []).includes('*'), 'no wildcards')
    }
  })

  test('the impersonate ClusterRole is optional: valid, commented, and not in the base', () => {
    assert.ok(!objects().some(o => o.metadata.name === 'kdebug-gateway-impersonate'))
    const raw = readRepoFile('deploy/optional/impersonate-clusterrole.yaml')
    const objs = parseManifests(raw)
    assert.deepEqual(objs.map(o => o.kind), ['ClusterRole', 'ClusterRoleBinding'])
    for (const o of objs) {
      validateSchema(o)
      assert.deepEqual(unknownFields(o), [])
    }
    const role = objs[0] as unknown as IClusterRole
    assert.ok(role.rules?.every(r => r.verbs.length === 1 && r.verbs[0] === 'impersonate'))
    assert.ok(role.rules?.some(r => r.resources?.includes('users')))
    const binding = objs[1] as unknown as IClusterRoleBinding
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: GATEWAY, namespace: 'kdebug' }])
    const rules = parseDocument(raw.split(/^---$/m)[0] as string).get('rules', true)
    assert.ok(isSeq(rules))
    rules.items.forEach((item, i) => assert.ok(isMap(item) && (item.commentBefore ?? (i === 0 ? rules.commentBefore : undefined))?.trim(), `rule ${i} has a comment`))
  })
})

describe('deploy-overlays/example', { skip: missing }, () => {
  let cache: KObject[] | undefined
  const objects = (): KObject[] => (cache ??= kustomize(OVERLAY))

  commonChecks(objects, 'overlay')

  test('patches what it says: image, replicas, OIDC config, restricted gateway namespace, separate node namespace', () => {
    const d = only<IDeployment>(objects(), 'Deployment', GATEWAY)
    assert.equal(d.spec?.replicas, 3)
    assert.equal(gatewayContainer(d).image, 'registry.example.com/platform/kdebug-gateway:0.1.0')
    const config = configOf(objects(), 'overlay-oidc')
    assert.equal(config.authentication.mode, 'oidc')
    assert.ok(config.authentication.oidc?.issuerUrl.startsWith('https://'))
    assert.equal(config.sessions.nodeDebugNamespace, 'kdebug-nodes')
    assert.ok(config.policy.rules.length > 0)
    const gwNs = only<INamespace>(objects(), 'Namespace', 'kdebug')
    assert.equal(gwNs.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'restricted')
  })

  test('the narrowed NetworkPolicy names sources and destinations in every rule', () => {
    const np = only<INetworkPolicy>(objects(), 'NetworkPolicy', GATEWAY)
    for (const r of np.spec?.ingress ?? []) assert.ok(r.from && r.from.length > 0)
    for (const r of np.spec?.egress ?? []) assert.ok(r.to && r.to.length > 0)
  })
})

describe('the offline schema checks themselves', () => {
  const deployment = parseManifests(readRepoFile('deploy/deployment.yaml'))[0] as KObject

  test('the raw Deployment passes both checks', () => {
    validateSchema(deployment)
    assert.deepEqual(unknownFields(deployment), [])
  })

  test('a wrong type fails schema validation; a misspelt field is reported', () => {
    const bad = structuredClone(deployment) as unknown as IDeployment
    const c = gatewayContainer(bad)
    c.ports = [{ name: 'http', containerPort: '8080' as unknown as number }]
    assert.throws(() => validateSchema(bad as unknown as KObject), /containerPort must be integer/)
    const typo = structuredClone(deployment) as unknown as { spec: { template: { spec: { containers: Array<{ securityContext: Record<string, unknown> }> } } } }
    const sc = typo.spec.template.spec.containers[0]?.securityContext
    assert.ok(sc)
    sc.readOnlyRootFileSystem = true
    assert.deepEqual(unknownFields(typo as unknown as KObject), ['Deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem'])
  })

  test('an unregistered kind is an error, not a silent pass', () => {
    assert.throws(() => validateSchema({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }), /no schema registered/)
  })
})
