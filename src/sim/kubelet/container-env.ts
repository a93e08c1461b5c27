// The environment a container's processes see, as the kubelet builds it
// (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables) and the runtime
// completes it:
// - `env` in order; `$(VAR)` refers to variables defined earlier (and the
//   service variables), `$$(VAR)` escapes, unknown references stay as written
//   (third_party/forked/golang/expansion MappingFuncFor / Expand);
// - `valueFrom.fieldRef` from the pod (pkg/kubelet/kubelet_pods.go
//   podFieldSelectorRuntimeValue + pkg/fieldpath ExtractFieldPathAsString);
//   `resourceFieldRef` limits/requests (pkg/api/v1/resource
//   ExtractContainerResourceValue: cpu rounded up to cores (divisor 1),
//   memory in bytes); configMapKeyRef/secretKeyRef and envFrom are not
//   resolved: the sim stores no ConfigMaps or Secrets;
// - the `kubernetes` service variables every pod gets (the master service is
//   added to every namespace's service env, pkg/kubelet/envvars FromServices);
// - from the runtime: HOSTNAME (the pod's hostname), PATH and HOME (image
//   config / runc defaults), TERM=xterm with a tty (containerd's CRI
//   WithTTY: "TERM=xterm"). Variables from `env` win over the image's.
type Obj = Record<string, unknown>

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
/** The `kubernetes` Service's ClusterIP in the sim's world (kubeadm's default service CIDR). */
const KUBERNETES_SERVICE_IP = '10.96.0.1'

/** pkg/kubelet/envvars FromServices for the default/kubernetes Service (port https 443/TCP). */
export function kubernetesServiceEnv (): Record<string, string> {
  const ip = KUBERNETES_SERVICE_IP
  return {
    KUBERNETES_SERVICE_HOST: ip,
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: `tcp://${ip}:443`,
    KUBERNETES_PORT_443_TCP: `tcp://${ip}:443`,
    KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443',
    KUBERNETES_PORT_443_TCP_ADDR: ip
  }
}

/** third_party/forked/golang/expansion Expand: $(VAR) from the mapping, $$ escapes, the rest verbatim. */
export function expand (input: string, lookup: (name: string) => string | undefined): string {
  let out = ''
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]
    if (ch !== '$' || i + 1 >= input.length) { out += ch; continue }
    const next = input[i + 1]
    if (next === '$') { out += '$'; i++; continue }
    if (next === '(') {
      const close = input.indexOf(')', i + 2)
      if (close === -1) { out += input.slice(i); break }
      const name = input.slice(i + 2, close)
      const v = lookup(name)
      out += v ?? `$(${name})`
      i = close
      continue
    }
    out += ch
  }
  return out
}

function labelOrAnnotation (map: unknown, key: string): string {
  const m = (map ?? {}) as Record<string, string>
  return m[key] ?? ''
}

/** pkg/fieldpath ExtractFieldPathAsString + the kubelet's spec/status fields. */
export function fieldRefValue (pod: Obj, path: string): string | undefined {
  const meta = (pod.metadata ?? {}) as Obj
  const spec = (pod.spec ?? {}) as Obj
  const status = (pod.status ?? {}) as Obj
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path)
  if (sub) return labelOrAnnotation(meta[sub[1] as string], sub[2] as string)
  switch (path) {
    case 'metadata.name': return String(meta.name ?? '')
    case 'metadata.namespace': return String(meta.namespace ?? '')
    case 'metadata.uid': return String(meta.uid ?? '')
    case 'spec.nodeName': return String(spec.nodeName ?? '')
    case 'spec.serviceAccountName': return String(spec.serviceAccountName ?? '')
    case 'status.hostIP': return String(status.hostIP ?? '')
    case 'status.podIP': return String(status.podIP ?? '')
    case 'status.hostIPs': return ((status.hostIPs ?? []) as Array<{ ip?: string }>).map(x => x.ip ?? '').join(',')
    case 'status.podIPs': return ((status.podIPs ?? []) as Array<{ ip?: string }>).map(x => x.ip ?? '').join(',')
  }
  return undefined
}

function cpuCores (q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q)
  if (!m) return 0
  const n = Number(m[1])
  return m[2] === 'm' ? n / 1000 : n
}

const MEMORY_SUFFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 }

function memoryBytes (q: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q)
  return m ? Math.ceil(Number(m[1]) * (MEMORY_SUFFIX[m[2] ?? ''] ?? 1)) : 0
}

/** resourceFieldRef with the default divisor: cpu in whole cores (rounded up), memory in bytes. */
function resourceFieldValue (container: Obj, resource: string): string | undefined {
  const [kind, name] = resource.split('.') as [string, string]
  const r = ((container.resources ?? {}) as Obj)[kind] as Record<string, string> | undefined
  const q = r?.[name]
  if (q === undefined) return undefined
  if (name === 'cpu') return String(Math.ceil(cpuCores(q)))
  if (name === 'memory') return String(memoryBytes(q))
  return q
}

/** The process environment of `container` in `pod`. */
export function containerEnv (pod: Obj, container: Obj): Record<string, string> {
  const meta = (pod.metadata ?? {}) as Obj
  const spec = (pod.spec ?? {}) as Obj
  const hostname = String(spec.hostname ?? meta.name ?? '')
  const service = kubernetesServiceEnv()
  const defined: Record<string, string> = {}
  const lookup = (name: string): string | undefined => defined[name] ?? service[name]
  for (const e of (container.env ?? []) as Obj[]) {
    const name = String(e.name ?? '')
    if (!name) continue
    const from = e.valueFrom as Obj | undefined
    let value: string | undefined
    if (from?.fieldRef) value = fieldRefValue(pod, String((from.fieldRef as Obj).fieldPath ?? ''))
    else if (from?.resourceFieldRef) value = resourceFieldValue(container, String((from.resourceFieldRef as Obj).resource ?? ''))
    else if (from) continue // configMapKeyRef / secretKeyRef: nothing to read them from
    else value = expand(String(e.value ?? ''), lookup)
    defined[name] = value ?? ''
  }
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOSTNAME: hostname, HOME: '/root' }
  if (container.tty === true) env.TERM = 'xterm'
  return { ...env, ...service, ...defined }
}
