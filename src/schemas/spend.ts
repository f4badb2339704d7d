import { z } from 'zod'
import { queryInteger } from './query-integer.js'
import { ListOrder } from './shared.js'

/**
 * The SDK 6 types (admin/organization/spend-limit.d.ts, spend-alerts.d.ts): amounts are cents,
 * and `currency` and `interval` take only `USD` and `month`, the one value each the types allow.
 */
const threshold = z.number().int().min(0)
const currency = z.literal('USD')
const interval = z.literal('month')

export const SpendLimitUpdateRequest = z.strictObject({ threshold_amount: threshold, currency, interval })

export const SpendAlertRequest = z.strictObject({
  threshold_amount: threshold,
  currency,
  interval,
  notification_channel: z.strictObject({
    type: z.literal('email'),
    recipients: z.array(z.string().min(1)).min(1),
    subject_prefix: z.string().nullish(),
  }),
})

export const SpendAlertListQuery = z.strictObject({
  after: z.string().optional(),
  before: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(100)).default(20),
  order: ListOrder.default('asc'),
})
