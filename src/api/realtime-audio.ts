import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { AppContext } from '../context.js'
import { TranscriptionsService } from '../domain/audio/transcriptions.js'
import { SpeechService } from '../domain/inference/speech.js'
import type { AudioEngines } from '../domain/realtime/audio.js'
import type { ProjectPrincipal } from '../principal.js'

/** What a transcription answered, as text: Plinth's own JSON body, or an upstream's. */
async function transcriptOf(answer: Awaited<ReturnType<TranscriptionsService['create']>>): Promise<string> {
  if (answer.kind === 'body') return (JSON.parse(answer.body) as { text: string }).text
  if (answer.kind === 'relay') {
    const chunks: Uint8Array[] = []
    for await (const chunk of answer.body) chunks.push(chunk)
    return (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string }).text
  }
  let text = ''
  for await (const event of answer.events) if (event.type === 'transcript.text.done') text = String(event.text)
  return text
}

/**
 * A Realtime session's audio on the Audio API's services (docs/audio.md): committed input through
 * the transcription service (`whisper-1` unless the session names a model), spoken output through
 * the speech service (`tts-1`, pcm: 24 kHz 16-bit mono, the Realtime format). Each records its
 * usage as the Audio API does.
 */
export function realtimeAudio(ctx: AppContext, principal: ProjectPrincipal): AudioEngines {
  const transcriptions = new TranscriptionsService(ctx.providers, ctx.services.usage)
  const speech = new SpeechService(ctx.providers, ctx.services.usage)
  return {
    async transcribe(wav, model, signal) {
      const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'plinth-realtime-'))
      const file = path.join(dir, 'audio.wav')
      try {
        await fs.promises.writeFile(file, wav)
        const answer = await transcriptions.create(principal, {
          task: 'transcribe',
          params: { model, response_format: 'json', include: [] },
          fields: { model, response_format: 'json' },
          audio: { path: file, filename: 'audio.wav', contentType: 'audio/wav', bytes: wav.length },
          signal,
        })
        return await transcriptOf(answer)
      } finally {
        await fs.promises.rm(dir, { recursive: true, force: true })
      }
    },
    async speak(text, voice, signal) {
      const answer = await speech.create(principal, { model: 'tts-1', input: text.slice(0, 4096), voice, response_format: 'pcm' }, { signal })
      return answer.chunks
    },
  }
}
