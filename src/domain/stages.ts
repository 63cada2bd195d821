import { LIFECYCLE_STAGES, type LifecycleStage } from './mapping/schema.js';

/** Position in the funnel `subscriber < … < customer`; `disqualified` is outside it (-1). */
export function stageRank(stage: LifecycleStage | null | undefined): number {
  if (stage === null || stage === undefined || stage === 'disqualified') return -1;
  return LIFECYCLE_STAGES.indexOf(stage);
}

export function isFunnelStage(stage: LifecycleStage): stage is (typeof LIFECYCLE_STAGES)[number] {
  return stage !== 'disqualified';
}
