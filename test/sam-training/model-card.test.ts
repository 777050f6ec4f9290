/**
 * The micro-SAM's model card is written from its training record: every fine-tuning gets its own
 * section, in order, and says whether the image encoder (and so every embedding) changed.
 */
import { modelCardText, type ModelCardInputs } from '../../src/sam-training/model-card';
import { MICRO_SAM_DATA, microSamConfig } from '../../src/sam-training/micro-sam-config';

const curve = (start: number) => Array.from({ length: 16 }, (_, i) => start + i / 100);

function inputs(training: Record<string, unknown>): ModelCardInputs {
  return {
    config: microSamConfig(),
    data: MICRO_SAM_DATA,
    training: { producer: 'pytorch-twin', device: 'GPU', steps: 10, options: {}, ...training },
    evaluation: { split: 'test', scenes: 100, miouAtClick: [0.85, 0.88, 0.9, 0.91, 0.92], seconds: 7 },
    weightsBytes: 3 * 2 ** 20,
  };
}

const decoderOnly = {
  command: 'bash scripts/micro-sam-torch/finetune-on-cpu.sh',
  steps: 261,
  options: { rounds: 15 },
  valBefore: { oracle: curve(0.7) },
  valAfter: { oracle: curve(0.75) },
};
const withEncoder = {
  command: 'bash scripts/micro-sam-torch/finetune-on-cpu.sh --train-encoder --category-loss 0.5',
  encoderTrained: true,
  steps: 400,
  options: { rounds: 15, encoder_lr_scale: 0.5, category_loss: 0.5 },
  valBefore: { oracle: curve(0.75) },
  valAfter: { oracle: curve(0.74), category_acc: 0.8012, category_loss: 0.59 },
};

describe('modelCardText', () => {
  it('describes a single decoder fine-tuning (the older single-record form) with a frozen encoder', () => {
    const card = modelCardText(inputs({ finetune: decoderOnly }));
    expect(card.match(/^## Fine-tuning/gm)).toHaveLength(1);
    expect(card).toContain('## Fine-tuning for click chains (`bash scripts/micro-sam-torch/finetune-on-cpu.sh`)');
    expect(card).toContain('the image encoder is frozen');
    expect(card).toContain('| oracle cells | 0.700 -> 0.750 | 0.710 -> 0.760 |');
    expect(card).not.toContain('auxiliary loss');
  });

  it('gives every fine-tuning a numbered section and says when the encoder and embeddings changed', () => {
    const card = modelCardText(inputs({ finetunes: [decoderOnly, withEncoder] }));
    const first = card.indexOf('## Fine-tuning 1 for click chains (`bash scripts/micro-sam-torch/finetune-on-cpu.sh`)');
    const second = card.indexOf('## Fine-tuning 2 for click chains (`' + withEncoder.command + '`)');
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    const later = card.slice(second);
    expect(later).toContain('the image encoder at\n0.5 times the decoder');
    expect(later).toContain('auxiliary loss (weight 0.5)');
    expect(later).toContain('80.1% of cells');
    expect(later).toContain('Every image embedding changes');
    expect(later).not.toContain('the image encoder is frozen');
    expect(card.slice(first, second)).toContain('the image encoder is frozen');
  });
});
