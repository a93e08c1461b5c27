// Kubernetes object names, checked the way the API server checks them, so a
// bad name is a 400 naming the parameter before anything is sent upstream.
// A name is also a URL path segment of the upstream call: `.`, `..`, `/` and
// `%` would make the gateway's own credentials call a different API path.
// Sources (kubernetes/kubernetes, staging/src/k8s.io/apimachinery):
//  - pkg/util/validation/validation.go: IsDNS1123Label (≤ 63), IsDNS1123Subdomain (≤ 253)
//  - pkg/api/validation/path/name.go: ValidatePathSegmentName (no `.`, `..`, `/`, `%`)
//  - pkg/apis/core/validation/validation.go: ValidateNamespaceName = NameIsDNSLabel,
//    ValidatePodName and ValidateNodeName = NameIsDNSSubdomain, container names
//    via validateContainers → ValidateDNS1123Label
import { Type, type TString } from '@sinclair/typebox'

export const DNS1123_LABEL_MAX = 63
export const DNS1123_SUBDOMAIN_MAX = 253

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?'
/** validation.go dns1123LabelFmt, anchored. */
export const DNS1123_LABEL_PATTERN = `^${LABEL}$`
/** validation.go dns1123SubdomainFmt, anchored: labels joined by single dots, so no leading, trailing or double dot. */
export const DNS1123_SUBDOMAIN_PATTERN = `^${LABEL}(\\.${LABEL})*$`

const LABEL_RE = new RegExp(DNS1123_LABEL_PATTERN)
const SUBDOMAIN_RE = new RegExp(DNS1123_SUBDOMAIN_PATTERN)

/** What a failed pattern means, for problem messages (Ajv only says "must match pattern"). */
const PATTERN_MESSAGES: Record<string, string> = {
  [DNS1123_LABEL_PATTERN]: `must be a DNS-1123 label: at most ${DNS1123_LABEL_MAX} lowercase letters, digits or '-', starting and ending with a letter or digit`,
  [DNS1123_SUBDOMAIN_PATTERN]: `must be a DNS-1123 subdomain: at most ${DNS1123_SUBDOMAIN_MAX} characters, dot-separated labels of lowercase letters, digits or '-', each starting and ending with a letter or digit`
}

export function patternMessage (pattern: unknown): string | undefined {
  return typeof pattern === 'string' ? PATTERN_MESSAGES[pattern] : undefined
}

export function isDns1123Label (value: string): boolean {
  return value.length <= DNS1123_LABEL_MAX && LABEL_RE.test(value)
}

export function isDns1123Subdomain (value: string): boolean {
  return value.length <= DNS1123_SUBDOMAIN_MAX && SUBDOMAIN_RE.test(value)
}

const label = (description: string): TString =>
  Type.String({ minLength: 1, maxLength: DNS1123_LABEL_MAX, pattern: DNS1123_LABEL_PATTERN, description })
const subdomain = (description: string): TString =>
  Type.String({ minLength: 1, maxLength: DNS1123_SUBDOMAIN_MAX, pattern: DNS1123_SUBDOMAIN_PATTERN, description })

/** Builders, so each use keeps its own description in the OpenAPI document. */
export const Names = {
  namespace: (description = 'Namespace (DNS-1123 label).') => label(description),
  pod: (description = 'Pod name (DNS-1123 subdomain).') => subdomain(description),
  node: (description = 'Node name (DNS-1123 subdomain).') => subdomain(description),
  container: (description = 'Container name (DNS-1123 label).') => label(description)
}

export const NamespaceNameSchema = Names.namespace()
export const PodNameSchema = Names.pod()
export const NodeNameSchema = Names.node()
export const ContainerNameSchema = Names.container()

/** Object keys that name a container, or `*` (setImage). */
export const CONTAINER_NAME_OR_STAR_PATTERN = `^(\\*|${LABEL})$`
