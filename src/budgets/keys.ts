// Who a budget is charged to: the effective user and, when the caller
// delegated, the caller itself (at a larger share). Keys are prefixed so a
// user name can never collide with an anonymous source address.
import type { Identity } from '../auth/identity.ts'

export interface BudgetKey {
  key: string
  /** Multiplier of the per-user budget (1 for users, the delegator factor for delegating callers). */
  factor: number
}

export function budgetKeys (identity: Identity, delegatorFactor: number): BudgetKey[] {
  const keys: BudgetKey[] = [{ key: `user:${identity.user}`, factor: 1 }]
  if (identity.actor !== undefined && identity.actor.user !== identity.user) keys.push({ key: `user:${identity.actor.user}`, factor: delegatorFactor })
  return keys
}

/** Unauthenticated callers have no name; their refusals are counted by source address. */
export function anonymousKey (ip: string): BudgetKey {
  return { key: `anon:${ip}`, factor: 1 }
}
