/**
 * The methods a provider implements to serve POST /v1/audio/transcriptions and /translations: speech to text.
 * Optional: a provider without them has no such models.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TranscriptionBackend {}
