import type { AppContext } from '../../context.js'
import type { Dash } from '../dash.js'
import { Page } from '../layout.js'
import { Table, type View } from '../view.js'

export function modelsPage(ctx: AppContext, view: View) {
  const models = ctx.providers.list()
  return (
    <Page title="Models" path="/dashboard/models" view={view}>
      <h1>Models</h1>
      <Table>
        <tr>
          <th>Model</th>
          <th>Owned by</th>
          <th>Chat</th>
          <th>Completions</th>
          <th>Embeddings</th>
        </tr>
        {models.map((m) => (
          <tr>
            <td>
              <code>{m.id}</code>
            </td>
            <td>{m.ownedBy}</td>
            <td>{m.capabilities.chat ? 'yes' : '—'}</td>
            <td>{m.capabilities.completions ? 'yes' : '—'}</td>
            <td>{m.capabilities.embeddings ? 'yes' : '—'}</td>
          </tr>
        ))}
      </Table>
    </Page>
  )
}

export function modelsRoutes(dash: Dash, ctx: AppContext) {
  dash.get('/dashboard/models', (view) => modelsPage(ctx, view))
}
