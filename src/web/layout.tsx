import type { Child } from 'hono/jsx'
import type { View } from './view.js'

// Served as raw text: inside <style> an escaped `>` (`&gt;`) would break selectors like `.bar>i`.
export const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:#1d2330;background:#f6f7f9}
header{display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px;padding:10px 24px;background:#1d2330;color:#fff}
header b{font-size:16px;letter-spacing:.5px}header nav{display:flex;flex-wrap:wrap;gap:4px 14px;flex:1 1 auto;min-width:0}
header nav a{color:#cfd6e4;text-decoration:none;white-space:nowrap}header nav a.on{color:#fff;font-weight:600}
header nav{order:2}header form{order:3;margin-left:auto}header button{padding:5px 10px;background:#39425a}
main{max-width:1100px;margin:24px auto;padding:0 24px}h1{font-size:20px;margin:0 0 16px}h2{font-size:16px;margin:20px 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin-bottom:20px}
.card{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:12px 14px}.card .n{font-size:22px;font-weight:600;overflow-wrap:anywhere}
.card .l{color:#667085;font-size:12px;text-transform:uppercase;letter-spacing:.4px}
.chart{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:12px;margin:0 0 16px}
.chart figcaption{font-weight:600;margin-bottom:6px;display:flex;flex-wrap:wrap;justify-content:space-between}
.legend span{font-weight:400;font-size:12px;margin-left:12px;color:#475467}.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
svg{width:100%;height:auto}.grid{stroke:#eef0f3}.axis{font-size:10px;fill:#667085}
.scroll{overflow-x:auto;max-width:100%;margin-bottom:20px}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #e3e6eb;border-radius:8px}
th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #eef0f3;font-size:13px;vertical-align:top}th{background:#fafbfc;color:#475467;font-weight:600}
code{font:12px ui-monospace,monospace;background:#f0f2f5;padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}
.bar{height:8px;background:#eef0f3;border-radius:4px;overflow:hidden;min-width:100px}.bar>i{display:block;height:100%;background:#3b82f6}
.bar>i.bad{background:#ef4444}.muted{color:#667085}.err{color:#b42318;margin:8px 0}
.notice{background:#ecfdf3;border:1px solid #abefc6;border-radius:8px;padding:10px 12px;margin:0 0 16px;overflow-wrap:anywhere}
.error{background:#fef3f2;border:1px solid #fecdca;color:#b42318;border-radius:8px;padding:10px 12px;margin:0 0 16px}
input,select,textarea,button{font:inherit;padding:7px 9px;border:1px solid #d0d5dd;border-radius:6px;max-width:100%}button{background:#1d2330;color:#fff;cursor:pointer}
button.danger{background:#b42318}button.small{padding:3px 8px;font-size:12px}
.row{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin:0 0 12px}.row label{display:flex;flex-direction:column;font-size:12px;color:#475467;gap:2px}
.panel{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:12px 14px;margin:0 0 16px}
.inline{display:inline}textarea{width:100%}
.login{max-width:420px;margin:12vh auto;background:#fff;border:1px solid #e3e6eb;border-radius:10px;padding:28px}.login input{width:100%;margin:8px 0 14px}
.msg{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:8px 12px;margin:0 0 8px;white-space:pre-wrap;overflow-wrap:anywhere}
.msg b{display:block;font-size:12px;color:#475467;text-transform:uppercase}
@media (max-width:640px){header{padding:10px 12px}main{padding:0 12px;margin:16px auto}header nav{order:4;flex-basis:100%}}
`

export const PAGES = [
  ['/dashboard', 'Overview'],
  ['/dashboard/usage', 'Usage'],
  ['/dashboard/requests', 'Requests'],
  ['/dashboard/projects', 'Projects & keys'],
  ['/dashboard/users', 'Users'],
  ['/dashboard/batches', 'Batches & jobs'],
  ['/dashboard/assistants', 'Assistants'],
  ['/dashboard/playground', 'Playground'],
  ['/dashboard/models', 'Models'],
  ['/dashboard/audit', 'Audit log'],
] as const

export function Page(props: {
  title: string
  path?: string
  /** the signed-in view: its CSRF token (sign-out), and the notice or error a form came back with */
  view?: View
  /** what an action shows once (a new key's secret) */
  notice?: Child
  error?: string
  children?: Child
}) {
  const notice = props.notice ?? props.view?.query.notice
  const error = props.error ?? props.view?.query.error
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Plinth`}</title>
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        {props.path ? (
          <header>
            <b>Plinth</b>
            <form method="post" action="/dashboard/logout">
              <input type="hidden" name="_csrf" value={props.view?.csrf ?? ''} />
              <button type="submit" id="sign-out">
                Sign out
              </button>
            </form>
            <nav>
              {PAGES.map(([href, label]) => (
                <a href={href} class={props.path === href ? 'on' : ''}>
                  {label}
                </a>
              ))}
            </nav>
          </header>
        ) : null}
        <main>
          {notice ? (
            <div class="notice" role="status">
              {notice}
            </div>
          ) : null}
          {error ? (
            <p class="error" role="alert">
              {error}
            </p>
          ) : null}
          {props.children}
        </main>
      </body>
    </html>
  )
}
