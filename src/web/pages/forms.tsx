import type { AppContext } from '../../context.js'
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

// Runs in the browser: streams a chat completion from /v1 with a project key the user pastes
// (kept in this tab's sessionStorage only), parsing the SSE chunks as they arrive.
const PLAYGROUND_JS = `
const f=document.getElementById('pg'),out=document.getElementById('out'),key=f.elements.key;
key.value=sessionStorage.getItem('plinth-key')||'';
f.addEventListener('submit',async e=>{e.preventDefault();sessionStorage.setItem('plinth-key',key.value);out.textContent='';
const body={model:f.elements.model.value,stream:true,stream_options:{include_usage:true},messages:[{role:'user',content:f.elements.prompt.value}]};
const r=await fetch('/v1/chat/completions',{method:'POST',headers:{'content-type':'application/json',authorization:'Bearer '+key.value},body:JSON.stringify(body)});
if(!r.ok){out.textContent=(await r.json()).error.message;return}
const reader=r.body.getReader(),dec=new TextDecoder();let buf='';
for(;;){const {done,value}=await reader.read();if(done)break;buf+=dec.decode(value,{stream:true});let i;
while((i=buf.indexOf('\\n\\n'))>=0){const ev=buf.slice(0,i);buf=buf.slice(i+2);const d=ev.replace(/^data: /,'');if(d==='[DONE]')continue;
const c=JSON.parse(d);if(c.error){out.textContent+='\\n[error] '+c.error.message;continue}
if(c.usage)out.textContent+='\\n\\n['+c.usage.prompt_tokens+' prompt + '+c.usage.completion_tokens+' completion tokens]';
for(const ch of c.choices||[])out.textContent+=ch.delta.content||''}}});
`

export function playgroundPage(ctx: AppContext) {
  const models = ctx.providers.list().filter((m) => m.capabilities.chat)
  return (
    <Page title="Playground" path="/dashboard/playground">
      <h1>Chat playground</h1>
      <form id="pg">
        <p>
          <select name="model">
            {models.map((m) => (
              <option value={m.id}>{m.id}</option>
            ))}
          </select>{' '}
          <input name="key" type="password" placeholder="project key sk-proj-..." size={40} required />
        </p>
        <p>
          <textarea name="prompt" rows={4} cols={90} required>
            Hello! What can you do?
          </textarea>
        </p>
        <button type="submit">Send (streams)</button>
      </form>
      <h2 style="font-size:16px">Answer</h2>
      <div id="out"></div>
      <script dangerouslySetInnerHTML={{ __html: PLAYGROUND_JS }} />
    </Page>
  )
}
