export type * from './contract.js';
export {
  createSyncPipeline,
  type SyncPipelineDeps,
  type SyncPipelineImpl,
  type PipelineReconcileOptions,
} from './pipeline.js';
export { openSyncPipeline, loadMapping, type OpenSyncPipelineOptions } from './open.js';
export { splitWrites, batchKey, BATCH_LIMIT } from './batches.js';
export { hubspotPullProperties, salesforcePullFields, kindOf, objectsOfKind } from './fields.js';
export { formatPlanPreview, previewLines, type PreviewLine } from './preview.js';
export {
  previewMapping,
  backfillMapping,
  rebuildView,
  type PreviewResult,
  type RunSummary,
} from './maintenance.js';
