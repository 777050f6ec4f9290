/** Browser-safe entry point: the exported-policy runtime only (imports nothing but @tensorflow/tfjs and zod, which validates the architecture). */
export {
  PolicyRuntime,
  POLICY_EXPORT_FORMAT,
  POLICY_EXPORT_VERSION,
  POLICY_JSON,
  POLICY_WEIGHTS,
} from './policy-runtime';
export type { PolicyExportJson } from './policy-runtime';
