/**
 * Chunks a provider already wrote as JSON texts (the passthrough of an OpenAI-compatible
 * upstream), in order: the API layer frames each text as one `data:` event, unchanged.
 */
export class SerializedChunks {
  constructor(readonly texts: readonly string[]) {}
}
