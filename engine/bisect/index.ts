export { attribute, functionKey, profileFunctions, type FunctionCost, type FunctionDelta } from './attribution.js';
export { bisectCommits, judgeStep } from './commits.js';
export { bisectFlags, parseAssignment } from './flags.js';
export { SHARE_WARN_PCT } from './probe.js';
export type { BisectCommon, BisectDirection, BisectResult, BisectStep, ChangeShare, CommitRef, Confirmation, FlagEffect, NextRange } from './types.js';
export * from './bisect.js';
