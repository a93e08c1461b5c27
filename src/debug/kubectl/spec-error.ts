/**
 * A request that cannot be turned into a Kubernetes object. `field` names the JSON
 * field of the request body (e.g. `image`, `setImage`, `custom.env[0].name`) so the
 * route can answer 400 pointing at it.
 */
export class SpecError extends Error {
  readonly field: string

  constructor (field: string, message: string) {
    super(message)
    this.name = 'SpecError'
    this.field = field
  }
}

export function isSpecError (err: unknown): err is SpecError {
  return err instanceof SpecError
}
