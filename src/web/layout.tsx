import type { Child } from 'hono/jsx'

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:#1d2330;background:#f6f7f9}
header{display:flex;align-items:center;gap:24px;padding:10px 24px;background:#1d2330;color:#fff}
header b{font-size:16px;letter-spacing:.5px}header nav a{color:#cfd6e4;text-decoration:none;margin-right:16px}
header nav a.on{color:#fff;font-weight:600}header form{margin-left:auto}
main{max-width:1100px;margin:24px auto;padding:0 24px}h1{font-size:20px;margin:0 0 16px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin-bottom:20px}
.card{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:12px 14px}.card .n{font-size:22px;font-weight:600}
.card .l{color:#667085;font-size:12px;text-transform:uppercase;letter-spacing:.4px}
.chart{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:12px;margin:0 0 16px}
.chart figcaption{font-weight:600;margin-bottom:6px;display:flex;justify-content:space-between}
.legend span{font-weight:400;font-size:12px;margin-left:12px;color:#475467}.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
svg{width:100%;height:auto}.grid{stroke:#eef0f3}.axis{font-size:10px;fill:#667085}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #e3e6eb;border-radius:8px;overflow:hidden;margin-bottom:20px}
th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #eef0f3;font-size:13px}th{background:#fafbfc;color:#475467;font-weight:600}
code{font:12px ui-monospace,monospace;background:#f0f2f5;padding:1px 4px;border-radius:4px}
.bar{height:8px;background:#eef0f3;border-radius:4px;overflow:hidden;min-width:120px}.bar>i{display:block;height:100%;background:#3b82f6}
.bar>i.bad{background:#ef4444}.muted{color:#667085}.err{color:#b42318;margin:8px 0}
input,select,textarea,button{font:inherit;padding:7px 9px;border:1px solid #d0d5dd;border-radius:6px}button{background:#1d2330;color:#fff;cursor:pointer}
.login{max-width:420px;margin:12vh auto;background:#fff;border:1px solid #e3e6eb;border-radius:10px;padding:28px}.login input{width:100%;margin:8px 0 14px}
#out{white-space:pre-wrap;background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:12px;min-height:120px}
`

const PAGES = [
  ['/dashboard', 'Overview'],
  ['/dashboard/projects', 'Projects & keys'],
  ['/dashboard/batches', 'Batches'],
  ['/dashboard/models', 'Models'],
  ['/dashboard/audit', 'Audit log'],
  ['/dashboard/playground', 'Playground'],
] as const

export function Page(props: { title: string; path?: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Plinth`}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        {props.path ? (
          <header>
            <b>Plinth</b>
            <nav>
              {PAGES.map(([href, label]) => (
                <a href={href} class={props.path === href ? 'on' : ''}>
                  {label}
                </a>
              ))}
            </nav>
            <form method="post" action="/dashboard/logout">
              <button type="submit">Sign out</button>
            </form>
          </header>
        ) : null}
        <main>{props.children}</main>
      </body>
    </html>
  )
}
