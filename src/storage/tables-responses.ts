/**
 * Responses (migration 0012, docs/responses.md). A response's object is kept whole as JSON; its
 * input and output items are rows of their own, so a later response's `previous_response_id`
 * rebuilds the conversation from them and `item_reference` finds one item by its id.
 */

export interface ResponsesTable {
  id: string
  project_id: string
  created_at: number
  model: string
  /**
   * completed | incomplete | failed; a background response is also queued, in_progress or
   * cancelled (a foreground one is stored only once it has ended)
   */
  status: string
  previous_response_id: string | null
  /** JSON of the Response object, its output included */
  body: string
}

export interface ResponseItemsTable {
  response_id: string
  project_id: string
  /** input: what the request added to the conversation; output: what the model answered */
  kind: 'input' | 'output'
  /** 0-based order within the response's inputs or outputs */
  position: number
  /** the item's id (msg_, fc_, fco_...): what item_reference and the list cursors name */
  id: string
  /** JSON of the item as input_items lists it (ItemResource) */
  item: string
}

/** The Conversations API's conversations (migration 0024): items that responses read and extend. */
export interface ConversationsTable {
  id: string
  project_id: string
  created_at: number
  /** JSON of the metadata object */
  metadata: string
  /** the position the next appended item gets */
  next_position: number
}

export interface ConversationItemsTable {
  conversation_id: string
  project_id: string
  /** 0-based order of appending; gaps where items were deleted */
  position: number
  /** the item's id (msg_, fc_, fco_...) */
  id: string
  /** JSON of the item, as a response's items are kept (ItemResource) */
  item: string
}
