/**
 * The action space of the prompting env: the image is cut into a G x G grid of cells (the paper's
 * 10 x 10 patches of an 800 x 800 image) and an action clicks a cell's centre. Depending on the
 * label source the action is the cell alone (G*G actions) or the cell and its label (2*G*G:
 * [0, G*G) positive, [G*G, 2*G*G) negative).
 */

export type LabelSource = 'recalibration' | 'agent' | 'oracle';

export const LABEL_SOURCES: readonly LabelSource[] = ['recalibration', 'agent', 'oracle'];

export interface DecodedAction {
  /** Cell index in [0, G*G), row-major. */
  cell: number;
  /** The label the action itself carries ('agent' source only). */
  label: 0 | 1 | null;
}

export class ActionGrid {
  readonly numCells: number;
  readonly numActions: number;

  constructor(
    readonly gridSize: number,
    readonly labelSource: LabelSource,
  ) {
    if (!Number.isInteger(gridSize) || gridSize < 1)
      throw new Error(`gridSize must be a positive integer, got ${gridSize}`);
    if (!LABEL_SOURCES.includes(labelSource))
      throw new Error(`labelSource must be one of ${LABEL_SOURCES.join(', ')}, got '${labelSource}'`);
    this.numCells = gridSize * gridSize;
    this.numActions = labelSource === 'agent' ? 2 * this.numCells : this.numCells;
  }

  decode(action: number): DecodedAction {
    if (!Number.isInteger(action) || action < 0 || action >= this.numActions) {
      throw new Error(`action must be an integer in [0, ${this.numActions}), got ${action}`);
    }
    if (this.labelSource === 'agent') {
      return action < this.numCells ? { cell: action, label: 1 } : { cell: action - this.numCells, label: 0 };
    }
    return { cell: action, label: null };
  }

  /** Centre of a cell in image pixels (x, y) for an image of width x height. */
  cellCenterXY(cell: number, width: number, height: number): [number, number] {
    const row = Math.floor(cell / this.gridSize);
    const col = cell % this.gridSize;
    return [((col + 0.5) * width) / this.gridSize, ((row + 0.5) * height) / this.gridSize];
  }

  /** The cell containing image pixel (x, y). */
  cellOf(x: number, y: number, width: number, height: number): number {
    const col = Math.min(this.gridSize - 1, Math.max(0, Math.floor((x * this.gridSize) / width)));
    const row = Math.min(this.gridSize - 1, Math.max(0, Math.floor((y * this.gridSize) / height)));
    return row * this.gridSize + col;
  }

  /** Action mask: 1 where allowed; every action on an already clicked cell is masked. */
  actionMask(clicked: Uint8Array): Uint8Array {
    const mask = new Uint8Array(this.numActions);
    for (let a = 0; a < this.numActions; a++) mask[a] = clicked[a % this.numCells] ? 0 : 1;
    return mask;
  }

  /**
   * The mask at each cell's centre pixel, [G*G] of 0/1: the truth a click on that cell is judged
   * by (the env clicks cell centres), where a cell's fraction judges the whole patch.
   */
  cellCentreTruth(mask: Uint8Array, width: number, height: number): Float32Array {
    const out = new Float32Array(this.numCells);
    for (let c = 0; c < this.numCells; c++) {
      const [x, y] = this.cellCenterXY(c, width, height);
      const col = Math.min(width - 1, Math.max(0, Math.floor(x)));
      const row = Math.min(height - 1, Math.max(0, Math.floor(y)));
      out[c] = mask[row * width + col] !== 0 ? 1 : 0;
    }
    return out;
  }

  /** Fraction of target pixels in each cell, [G*G], from a full-resolution mask. */
  cellFractions(mask: Uint8Array, width: number, height: number): Float32Array {
    const counts = new Float32Array(this.numCells);
    const totals = new Float32Array(this.numCells);
    // Column cells once per call: Math lookups in the per-pixel loop cost ~100x under jest's vm
    // context, and this runs at every reset.
    const colCell = new Int32Array(width);
    for (let x = 0; x < width; x++) colCell[x] = Math.min(this.gridSize - 1, Math.floor((x * this.gridSize) / width));
    for (let y = 0; y < height; y++) {
      const rowStart = Math.min(this.gridSize - 1, Math.floor((y * this.gridSize) / height)) * this.gridSize;
      const pixelStart = y * width;
      for (let x = 0; x < width; x++) {
        const cell = rowStart + colCell[x];
        totals[cell]++;
        if (mask[pixelStart + x]) counts[cell]++;
      }
    }
    for (let c = 0; c < this.numCells; c++) counts[c] = totals[c] > 0 ? counts[c] / totals[c] : 0;
    return counts;
  }
}
