// PacketDrop Events as the API server returns them for each producer.
import type { Drop } from '../../src/drops/types.ts'

/**
 * kube-iptables-tailer (client-go v0.18 recorder): the sender pod's event after
 * the correlator PATCHed count/lastTimestamp three times. Old client-go sets no
 * reporting fields; the API server serialises them as empty strings.
 */
export function tailerEvent (): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: {
      name: 'web-7d4b9c6f5-x2x7p.187b2c3d4e5f6071',
      namespace: 'demo',
      uid: '6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f',
      resourceVersion: '48213',
      creationTimestamp: '2026-11-27T09:58:01Z'
    },
    involvedObject: {
      kind: 'Pod',
      namespace: 'demo',
      name: 'web-7d4b9c6f5-x2x7p',
      uid: 'a0b1c2d3-e4f5-4a6b-9c8d-7e6f5a4b3c2d',
      apiVersion: 'v1',
      resourceVersion: '47110'
    },
    reason: 'PacketDrop',
    message: 'Packet dropped when sending traffic to payments (10.244.2.17) on port 5432/TCP',
    source: { component: 'kube-iptables-tailer' },
    firstTimestamp: '2026-11-27T09:58:01Z',
    lastTimestamp: '2026-11-27T10:04:12Z',
    count: 4,
    type: 'Warning',
    eventTime: null,
    reportingComponent: '',
    reportingInstance: ''
  }
}

/**
 * Cilium's drop event emitter (v1.18-style message with policies): an ingress
 * drop on the destination pod. Its recorder references a slim Pod with name
 * and namespace only (no uid for ingress), and current client-go copies
 * source.component into reportingComponent.
 */
export function ciliumEvent (): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: {
      name: 'ledger-0.187b2c3d9a8b7c60',
      namespace: 'payments',
      uid: '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a',
      resourceVersion: '51877',
      creationTimestamp: '2026-11-27T10:01:30Z'
    },
    involvedObject: {
      kind: 'Pod',
      namespace: 'payments',
      name: 'ledger-0',
      apiVersion: 'v1'
    },
    reason: 'PacketDrop',
    message: 'Incoming packet dropped (policy_denied) from demo/web-7d4b9c6f5-x2x7p (10.244.1.9) TCP/5432. Applied policies: CiliumNetworkPolicy/ledger-ingress.',
    source: { component: 'cilium' },
    firstTimestamp: '2026-11-27T10:01:30Z',
    lastTimestamp: '2026-11-27T10:01:30Z',
    count: 1,
    type: 'Warning',
    eventTime: null,
    reportingComponent: 'cilium',
    reportingInstance: ''
  }
}

/** A structured drop for tests that do not care about parsing. */
export function makeDrop (overrides: Partial<Drop> = {}): Drop {
  return {
    id: 'uid-1',
    time: '2026-11-27T10:00:00Z',
    firstTime: '2026-11-27T10:00:00Z',
    namespace: 'demo',
    pod: 'web-1',
    direction: 'egress',
    peer: 'payments/ledger-0',
    peerNamespace: 'payments',
    peerPod: 'ledger-0',
    peerIP: '10.244.2.17',
    port: 5432,
    protocol: 'TCP',
    count: 1,
    node: null,
    source: 'cilium',
    sourceComponent: 'cilium',
    dropReason: 'policy_denied',
    policies: [],
    policyRelation: null,
    combined: false,
    message: 'Outgoing packet dropped (policy_denied) to payments/ledger-0 (10.244.2.17) TCP/5432.',
    resourceVersion: '100',
    ...overrides
  }
}
