export { PLAN_LAYOUT, planSections } from './layout.js';
export { PLAN_VERSION, SERIES_SAMPLES, planFor, type Plan } from './plan.js';
export { cacheMaxBytes, parseBytes, planCacheInfo, prunePlans, type PlanCacheInfo } from './cache.js';
