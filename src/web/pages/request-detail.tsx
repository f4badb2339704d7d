import type { AppContext } from '../../context.js'
import { notFound } from '../../errors.js'
import type { BodyText } from '../../request-log.js'
import { Page } from '../layout.js'
import type { View } from '../view.js'

function Body(props: { id: string; label: string; body?: BodyText }) {
  const { body } = props
  return (
    <>
      <h2>{props.label}</h2>
      {body ? (
        <>
          <div class="msg" id={props.id}>
            {body.text}
          </div>
          {body.truncated ? <p class="muted">Cut at 8 KB.</p> : null}
        </>
      ) : (
        <p class="muted" id={props.id}>
          Not kept.
        </p>
      )}
    </>
  )
}

/** One entry of the request log, with its prompt and answer text when its project keeps them. */
export function requestDetailPage(ctx: AppContext, view: View, seq: string) {
  const entry = /^\d{1,15}$/.test(seq) ? ctx.requestLog.get(Number(seq)) : undefined
  // an entry the ring has dropped (dashboard.requestLogSize) is gone, its text with it
  if (!entry) throw notFound('request in this node\'s request log', seq)
  const facts: [string, unknown][] = [
    ['When (UTC)', new Date(entry.at).toISOString().replace('T', ' ').slice(0, 23)],
    ['Request', `${entry.method} ${entry.path}`],
    ['Route', entry.route],
    ['Status', entry.status],
    ['Latency', `${entry.ms} ms`],
    ['Request id', entry.requestId],
    ['Project', entry.projectId],
    ['Key', entry.keyId],
    ['Model', entry.model],
    ['Tokens in / out', entry.inputTokens === undefined ? undefined : `${entry.inputTokens} / ${entry.outputTokens}`],
  ]
  return (
    <Page title={`Request ${seq}`} path="/dashboard/requests" view={view}>
      <h1>
        Request <code>{entry.requestId ?? seq}</code>
      </h1>
      <div class="scroll">
        <table id="request">
          {facts.map(([label, value]) => (
            <tr>
              <th>{label}</th>
              <td>{value === undefined ? '—' : String(value)}</td>
            </tr>
          ))}
        </table>
      </div>
      <Body id="prompt" label="Prompt" body={entry.prompt} />
      <Body id="answer" label="Answer" body={entry.answer} />
      <p>
        <a href="/dashboard/requests">Back to the request log</a>
      </p>
    </Page>
  )
}
