/**
 * The playground's one script (no framework): it posts the form to /dashboard/playground/stream
 * with fetch, shows the answer's text as its `delta` events arrive, and swaps in the form the
 * `done` event carries (the conversation with the new turn, the usage, any tool-result boxes).
 * Anything but an event stream (the CSRF refusal, the sign-in page) replaces the page, as a
 * plain post would have. Without fetch streams, or without JavaScript, the form posts as it is.
 */
export const STREAM_SCRIPT = `(() => {
  if (!window.fetch || !window.TextDecoder || !window.ReadableStream) return
  function bubble(role, label, content) {
    const div = document.createElement('div')
    div.className = 'msg ' + role
    div.setAttribute('data-role', label)
    const b = document.createElement('b')
    b.textContent = role
    div.appendChild(b)
    if (content) div.appendChild(document.createTextNode(content))
    document.getElementById('conversation').appendChild(div)
    return div
  }
  document.addEventListener('submit', async (event) => {
    const form = event.target
    if (!(form instanceof HTMLFormElement) || form.id !== 'pg') return
    event.preventDefault()
    const body = new URLSearchParams(new FormData(form))
    const button = form.querySelector('button[type=submit]')
    button.disabled = true
    const empty = document.querySelector('#conversation > p.muted')
    if (empty) empty.remove()
    const prompt = (body.get('prompt') || '').trim()
    if (prompt) bubble('user', 'user', prompt)
    const answer = bubble('assistant', 'streaming', '')
    answer.setAttribute('aria-busy', 'true')
    let response
    try {
      response = await fetch('/dashboard/playground/stream', { method: 'POST', body, credentials: 'same-origin', headers: { accept: 'text/event-stream' } })
    } catch (error) {
      form.submit()
      return
    }
    if (!(response.headers.get('content-type') || '').startsWith('text/event-stream')) {
      const page = new DOMParser().parseFromString(await response.text(), 'text/html')
      document.title = page.title
      document.body.replaceWith(page.body)
      return
    }
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    let finished = false
    const handle = (frame) => {
      let name = 'message'
      let data = ''
      for (const line of frame.split('\\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim()
        else if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '')
      }
      if (!data) return
      const payload = JSON.parse(data)
      if (name === 'delta') {
        answer.appendChild(document.createTextNode(payload.content))
        answer.scrollIntoView({ block: 'nearest' })
      } else if (name === 'done') {
        finished = true
        form.outerHTML = payload.html
        const next = document.querySelector('#pg textarea[name=prompt]')
        if (next) next.focus()
      }
    }
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        let end
        while ((end = buffer.indexOf('\\n\\n')) >= 0) {
          handle(buffer.slice(0, end))
          buffer = buffer.slice(end + 2)
        }
      }
    } catch (error) {
      // the connection broke: said below
    }
    if (!finished) {
      answer.removeAttribute('aria-busy')
      answer.appendChild(document.createTextNode(' [the answer was cut off: send again to retry]'))
      button.disabled = false
    }
  })
})()
`
