import type { Child } from 'hono/jsx'
import type { Principal, ProjectPrincipal } from '../principal.js'

/** What every signed-in page is rendered with. */
export type View = {
  admin: Principal
  /** the session's CSRF token (session.ts), put in every form */
  csrf: string
  /** the page's path and query: where a form's errors and notices come back to */
  here: string
  query: Record<string, string>
}

/**
 * A form that posts to the dashboard: it carries the session's CSRF token (checked on every POST)
 * and the page to come back to.
 */
export function Form(props: { view: View; action: string; class?: string; id?: string; children?: Child }) {
  return (
    <form method="post" action={props.action} class={props.class} id={props.id}>
      <input type="hidden" name="_csrf" value={props.view.csrf} />
      <input type="hidden" name="_back" value={props.view.here} />
      {props.children}
    </form>
  )
}

/** The admin acting inside one project, as the batches, assistants and chat services need. */
export function inProject(admin: Principal, projectId: string): ProjectPrincipal {
  return { ...admin, projectId, kind: 'project' }
}

export function date(seconds: number | null | undefined) {
  return seconds ? new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 16) : '—'
}

/** A table that scrolls sideways inside its box on a narrow screen, rather than widening the page. */
export function Table(props: { id?: string; children?: Child }) {
  return (
    <div class="scroll">
      <table id={props.id}>{props.children}</table>
    </div>
  )
}

/** A progress bar filled to `fraction` (0..1). */
export function Bar(props: { fraction: number; title: string; bad?: boolean }) {
  const pct = Math.max(0, Math.min(1, props.fraction)) * 100
  return (
    <div class="bar" title={props.title} role="progressbar" aria-valuenow={Math.round(pct)} aria-valuemin={0} aria-valuemax={100}>
      <i style={`width:${pct.toFixed(1)}%`} class={props.bad ? 'bad' : ''}></i>
    </div>
  )
}
