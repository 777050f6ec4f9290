export {
  readSafetensors,
  writeSafetensors,
  parseSafetensors,
  serializeSafetensors,
  readSafetensorsHeader,
  openSafetensors,
} from './safetensors';
export type { SafetensorsContents, SafetensorsEntry, SafetensorsHeader } from './safetensors';
export { loadPth, openPth, readPth } from './pth';
export type { PthContents, StateDictLocation } from './pth';
export { readCheckpoint, openCheckpoint, detectCheckpointFormat } from './checkpoint';
export { PickleSecurityError, PickleFormatError } from './pickle';
export { toFloat32, toInt32, elementCount } from './tensor-record';
export type { DType, NamedTensor, TensorRecord, TensorData, TensorReader } from './tensor-record';
export { downloadFile, SAM_CHECKPOINTS, SAM_CHECKPOINT_BASE_URL } from './download';
export type { SamModelType } from './download';
export { writeFileAtomic } from './atomic-file';
export { writeFolderAtomic } from './atomic-folder';
export { jsonText, readJsonFile, readJsonFileSync, writeJsonFile, writeJsonFileAtomic } from './json-file';
