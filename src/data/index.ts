/** Public API of the data layer (the lowest layer: it imports nothing above it). */
export * from './types';
export * from './image-io';
export * from './coco-mask';
export { CocoDataset, type CocoOptions } from './coco';
export { MaskFolderDataset, IMAGE_EXTENSIONS, type MaskFolderOptions } from './mask-folder';
export * from './synthetic';
export {
  SHAPE_NAMES,
  isShapeName,
  makeShape,
  type ShapeName,
  type ShapePlacement,
  type Shape,
} from './synthetic/shapes';
export { TEXTURE_KINDS, isTextureKind, type TextureKind, type TextureSpec, type Rgb } from './synthetic/textures';
export {
  renderScene,
  sampleScene,
  generateScene,
  ownership,
  rasterizeShapes,
  targetMask,
  type SceneSpec,
  type SceneObject,
  type SceneParams,
  type RenderedScene,
  type ShapeRaster,
} from './synthetic/scene';
export * from './splits';
export * from './factory';
