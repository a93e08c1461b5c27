// Sign-in: paste a bearer token, or (when the gateway verifies OIDC tokens)
// sign in with the provider.
import { useState } from 'preact/hooks'
import type { UiConfig } from '../api.ts'

export function SignIn (props: { config: UiConfig, error: string, onToken: (t: string) => void, onOidc: () => void }) {
  const [token, setToken] = useState('')
  return (
    <main class='sign-in'>
      <h1>kdebug console</h1>
      <p>Debug containers, node shells and packet drops through the kdebug gateway. Everything you do is authorised by your Kubernetes permissions and the gateway's policy, and audited.</p>
      {props.config.oidc && (
        <>
          <button type='button' class='primary wide' onClick={props.onOidc}>Sign in with {new URL(props.config.oidc.issuer).host}</button>
          <p class='or'>or</p>
        </>
      )}
      <form class='form' onSubmit={(e) => { e.preventDefault(); if (token.trim()) props.onToken(token.trim()) }}>
        <label>Bearer token
          <input
            data-testid='token-input' type='password' name='token' autocomplete='off' spellcheck={false} required value={token}
            aria-describedby='token-help' onInput={(e) => setToken(e.currentTarget.value)}
          />
          <small id='token-help' class='hint'>Kept in this tab only (sessionStorage) until you sign out or close it.</small>
        </label>
        {props.error && <p role='alert' class='bad'>{props.error}</p>}
        <button data-testid='sign-in' type='submit' class='primary'>Sign in</button>
      </form>
    </main>
  )
}
