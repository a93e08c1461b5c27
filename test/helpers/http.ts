/** A response body as loosely typed JSON: tests assert its shape field by field. */
export type Json = any

export async function jsonOf (res: Response): Promise<Json> {
  return await res.json()
}
