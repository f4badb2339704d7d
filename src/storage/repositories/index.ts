import type { Kysely } from 'kysely'
import type { Database } from '../tables.js'
import { ApiKeysRepo } from './api-keys.js'
import { AssistantsRepo } from './assistants.js'
import { MessagesRepo } from './messages.js'
import { ThreadsRepo } from './threads.js'
import { RunsRepo, RunStepsRepo } from './runs.js'
import { BatchesRepo, BatchLinesRepo } from './batches.js'
import { AuditLogsRepo } from './audit-logs.js'
import { CertificatesRepo } from './certificates.js'
import { ChatCompletionsRepo } from './chat-completions.js'
import { ConversationsRepo } from './conversations.js'
import { ContainersRepo } from './containers.js'
import { JobsRepo } from './jobs.js'
import { FilesRepo } from './files.js'
import {
  FineTuningCheckpointsRepo,
  FineTuningEventsRepo,
  FineTuningJobsRepo,
  FineTuningPermissionsRepo,
} from './fine-tuning.js'
import { EvalOutputItemsRepo, EvalRunsRepo, EvalsRepo } from './evals.js'
import { InvitesRepo } from './invites.js'
import { OrganizationsRepo, ProjectsRepo } from './organizations.js'
import { ProjectUsersRepo } from './project-users.js'
import { ServiceAccountsRepo } from './service-accounts.js'
import { UploadsRepo } from './uploads.js'
import { UsageRepo } from './usage.js'
import { UsageRollupsRepo } from './usage-rollups.js'
import { RateLimitsRepo } from './rate-limits.js'
import { SpendRepo } from './spend.js'
import { ResponsesRepo } from './responses.js'
import { UsersRepo } from './users.js'
import {
  VectorStoreFileBatchesRepo,
  VectorStoreFilesRepo,
  VectorStoresRepo,
  VectorStoreUsageDaysRepo,
} from './vector-stores.js'

/** Every repository over one Kysely handle (the pool, or a transaction). */
export function createRepos(db: Kysely<Database>) {
  return {
    organizations: new OrganizationsRepo(db),
    projects: new ProjectsRepo(db),
    apiKeys: new ApiKeysRepo(db),
    usage: new UsageRepo(db),
    usageRollups: new UsageRollupsRepo(db),
    rateLimits: new RateLimitsRepo(db),
    spend: new SpendRepo(db),
    chatCompletions: new ChatCompletionsRepo(db),
    jobs: new JobsRepo(db),
    batches: new BatchesRepo(db),
    batchLines: new BatchLinesRepo(db),
    files: new FilesRepo(db),
    containers: new ContainersRepo(db),
    uploads: new UploadsRepo(db),
    users: new UsersRepo(db),
    invites: new InvitesRepo(db),
    projectUsers: new ProjectUsersRepo(db),
    serviceAccounts: new ServiceAccountsRepo(db),
    auditLogs: new AuditLogsRepo(db),
    certificates: new CertificatesRepo(db),
    assistants: new AssistantsRepo(db),
    threads: new ThreadsRepo(db),
    messages: new MessagesRepo(db),
    runs: new RunsRepo(db),
    runSteps: new RunStepsRepo(db),
    vectorStores: new VectorStoresRepo(db),
    vectorStoreFiles: new VectorStoreFilesRepo(db),
    vectorStoreFileBatches: new VectorStoreFileBatchesRepo(db),
    vectorStoreUsageDays: new VectorStoreUsageDaysRepo(db),
    responses: new ResponsesRepo(db),
    conversations: new ConversationsRepo(db),
    fineTuningJobs: new FineTuningJobsRepo(db),
    fineTuningEvents: new FineTuningEventsRepo(db),
    fineTuningCheckpoints: new FineTuningCheckpointsRepo(db),
    fineTuningPermissions: new FineTuningPermissionsRepo(db),
    evals: new EvalsRepo(db),
    evalRuns: new EvalRunsRepo(db),
    evalOutputItems: new EvalOutputItemsRepo(db),
  }
}

export type Repos = ReturnType<typeof createRepos>
