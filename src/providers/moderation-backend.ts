/**
 * The methods a provider implements to serve POST /v1/moderations: classify text and images.
 * Optional: a provider without them has no such models.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ModerationBackend {}
