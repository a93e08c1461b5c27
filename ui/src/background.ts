// Starts a promise whose outcome the caller handles itself (its own catch,
// state updates); anything unexpected still reaches the console.
export function background (p: Promise<unknown> | undefined): void {
  p?.catch((err: unknown) => { console.error(err) })
}
