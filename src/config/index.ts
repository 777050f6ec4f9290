export { configSchema, crossCheck, REWARD_PRESET_NAMES, SAM_BACKENDS } from './alignsam-config';
export type { AlignSamConfig, RewardSection } from './alignsam-config';
export { ALLOW_CODE_ENV, codeAllowedByEnv } from './allow-code';
export {
  ConfigError,
  applyOverrides,
  dumpConfig,
  loadConfig,
  loadRewardFile,
  parseOverride,
  resolveConfig,
} from './load-config';
export type { LoadConfigOptions, Override } from './load-config';
export { configKeysMarkdown, envOptionsMarkdown, withGeneratedDocs } from './docs';
