export { ConfigError, formatProblem, type ConfigProblem, type ProblemOrigin } from './config-error.js';
export { loadConfig, type LoadConfigOptions } from './load-config.js';
export {
  requireCredentials,
  requireHubSpot,
  requireSalesforce,
  type ConnectionConfigs,
  type HubSpotConnectionConfig,
  type SalesforceAuth,
  type SalesforceConnectionConfig,
} from './require-credentials.js';
export {
  CONFIG_VARIABLES,
  DEFAULTS,
  HUBSPOT_TIER_LIMITS,
  HUBSPOT_TIERS,
  LOG_LEVELS,
  SALESFORCE_AUTH_FLOWS,
  WORKER_QUEUES,
  type ConfigVariable,
  type DatabaseConfig,
  type HubSpotTier,
  type LogLevel,
  type SalesforceAuthFlow,
  type SalesforceCredentials,
  type Schedule,
  type TandemConfig,
  type WorkerQueue,
} from './schema.js';
export { cronProblem, parseBoolean, parseDuration, parseSchedule } from './parsers.js';
