export { createDashboard, type DashboardConnections, type DashboardOptions } from './server.js';
export { html, raw, escapeHtml, jsonForScript, SafeHtml } from './html.js';
export {
  tokensEqual,
  roleForToken,
  resolveTokens,
  InsecureListenError,
  isLoopbackHost,
  type Role,
} from './auth.js';
export { recordUrl, hubspotRecordUrl, salesforceRecordUrl, type RecordLinkSettings } from './links.js';
export {
  QueueBoard,
  groupFailures,
  failedJobView,
  type FailedJobView,
  type FailureGroup,
  type FailurePage,
  type QueueDepth,
  type ReplaySelection,
  type ReplayStatus,
} from './queues.js';
export { buildOverview, type Overview, type DashboardCustomerView } from './overview.js';
