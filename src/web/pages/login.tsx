import { Page } from '../layout.js'

export function loginPage(error?: string) {
  return (
    <Page title="Sign in">
      <form class="login" method="post" action="/dashboard/login">
        <h1>Plinth dashboard</h1>
        <p class="muted">Sign in with an admin key (sk-admin-…). It was printed when Plinth first started.</p>
        {error ? <p class="err">{error}</p> : null}
        <input type="password" name="key" placeholder="sk-admin-..." autocomplete="off" required />
        <button type="submit">Sign in</button>
      </form>
    </Page>
  )
}
