import { conversationNotFound, itemNotFound } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { ConversationCreateParams } from '../../schemas/conversations.js'
import type { InputItem } from '../../schemas/responses.js'
import { toPage, type ListPage } from '../../schemas/shared.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { ConversationRow } from '../../storage/repositories/conversations.js'
import type { Storage } from '../../storage/storage.js'
import { storedInput, type StoredItem } from './items.js'

export type ConversationObject = { id: string; object: 'conversation'; created_at: number; metadata: Record<string, string> }

/** SDK 6's ConversationItemList: a page of items, with the ids of its first and last (null when empty, as every list's). */
export type ConversationItemList = ListPage<StoredItem>

/** What the conversations need of the responses' store. */
export type ResponseItems = {
  /** every write of a response in flight, done (a response's items are appended behind its answer) */
  settled(): Promise<void>
  /** an item_reference's item */
  item(principal: ProjectPrincipal, id: string, param: string): Promise<StoredItem>
  /** an item as `include` shows it (image URLs only when asked for) */
  shown(item: StoredItem, include: string[] | undefined): StoredItem
}

/**
 * The Conversations API (docs/responses.md, "Conversations"): items kept as a response's are
 * (the same StoredItem, made from input items by the same code), which a response given
 * `conversation` reads as its history and extends with its input and output (ResponsesStore).
 */
export class ConversationsStore {
  constructor(
    private readonly storage: Storage,
    private readonly responses: ResponseItems,
  ) {}

  async create(principal: ProjectPrincipal, params: ConversationCreateParams): Promise<ConversationObject> {
    const items = await this.toItems(principal, params.items ?? [], 'items')
    const row = { id: newId('conv_'), project_id: principal.projectId, created_at: nowSeconds(), metadata: JSON.stringify(params.metadata ?? {}) }
    await this.storage.transaction((tx) => createRepos(tx.db).conversations.insert(row, items.map(itemRow)))
    return conversationObject({ ...row, next_position: items.length })
  }

  async get(principal: ProjectPrincipal, id: string): Promise<ConversationObject> {
    return conversationObject(await this.row(principal, id))
  }

  async update(principal: ProjectPrincipal, id: string, metadata: Record<string, string> | null): Promise<ConversationObject> {
    if (!(await createRepos(this.storage.db).conversations.updateMetadata(principal.projectId, id, JSON.stringify(metadata ?? {})))) throw conversationNotFound(id)
    return this.get(principal, id)
  }

  /** The conversation and its items go (Plinth has no other way to reach its items). */
  async delete(principal: ProjectPrincipal, id: string) {
    await this.row(principal, id)
    await this.responses.settled()
    await this.storage.transaction((tx) => createRepos(tx.db).conversations.delete(principal.projectId, id))
    return { id, object: 'conversation.deleted' as const, deleted: true }
  }

  async listItems(principal: ProjectPrincipal, id: string, query: { after?: string; limit: number; order: 'asc' | 'desc'; include?: string[] }): Promise<ConversationItemList> {
    await this.row(principal, id)
    const page = await createRepos(this.storage.db).conversations.page(principal.projectId, id, query)
    if (!page) throw itemNotFound(query.after!, 'after')
    return toPage(page.rows.map((row) => this.responses.shown(parse(row.item), query.include)), page.hasMore)
  }

  /** POST .../items: appended after the last, answered as a list of what was added. */
  async addItems(principal: ProjectPrincipal, id: string, input: InputItem[], include: string[] | undefined): Promise<ConversationItemList> {
    await this.row(principal, id)
    const items = await this.toItems(principal, input, 'items')
    const added = await this.storage.transaction((tx) => createRepos(tx.db).conversations.append(principal.projectId, id, items.map(itemRow)))
    if (!added) throw conversationNotFound(id)
    return toPage(items.map((item) => this.responses.shown(item, include)), false)
  }

  async item(principal: ProjectPrincipal, id: string, itemId: string, include: string[] | undefined): Promise<StoredItem> {
    await this.row(principal, id)
    const row = await createRepos(this.storage.db).conversations.findItem(principal.projectId, id, itemId)
    if (!row) throw itemNotFound(itemId, 'item_id')
    return this.responses.shown(parse(row.item), include)
  }

  /** DELETE .../items/{item_id}: answers the conversation, as OpenAI does. */
  async deleteItem(principal: ProjectPrincipal, id: string, itemId: string): Promise<ConversationObject> {
    const conversation = await this.row(principal, id)
    if (!(await createRepos(this.storage.db).conversations.deleteItem(principal.projectId, id, itemId))) throw itemNotFound(itemId, 'item_id')
    return conversationObject(conversation)
  }

  /** Every item, oldest first: the history of a response made with `conversation`. */
  async history(principal: ProjectPrincipal, id: string): Promise<StoredItem[]> {
    await this.row(principal, id)
    return (await createRepos(this.storage.db).conversations.items(principal.projectId, id)).map((row) => parse(row.item))
  }

  /** The conversation's row; the responses still being written are written first. */
  private async row(principal: ProjectPrincipal, id: string): Promise<ConversationRow> {
    await this.responses.settled()
    const row = await createRepos(this.storage.db).conversations.get(principal.projectId, id)
    if (!row) throw conversationNotFound(id)
    return row
  }

  private toItems(principal: ProjectPrincipal, input: InputItem[], param: string): Promise<StoredItem[]> {
    return storedInput(input, (itemId, at) => this.responses.item(principal, itemId, at), param)
  }
}

function conversationObject(row: ConversationRow): ConversationObject {
  return { id: row.id, object: 'conversation', created_at: Number(row.created_at), metadata: JSON.parse(row.metadata) as Record<string, string> }
}

/** An item as a conversation_items row is written. */
export function itemRow(item: { id: string }) {
  return { id: item.id, item: JSON.stringify(item) }
}

function parse(text: string): StoredItem {
  return JSON.parse(text) as StoredItem
}
