/**
 * Worker side of `EncoderPool`: its own tfjs backend (the wasm backend is single-threaded in Node,
 * so one worker is one core) and its own SAM, loaded once, encoding the images it is sent.
 */
import { parentPort, workerData } from 'worker_threads';
import { BackendName, initBackend } from '../backend';
import type { RgbImage } from '../data/types';
import type { EncoderReply, EncoderRequest, EncoderWorkerData } from './encoder-messages';
import { encodeImage } from './image-encoding';
import type { SamModel } from './modeling/sam-model';
import { loadSam } from './pretrained';

const port = parentPort!;
const options = (workerData as { data: EncoderWorkerData }).data;
const post = (reply: EncoderReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

async function start(): Promise<SamModel> {
  await initBackend(options.backend as BackendName);
  return loadSam(options.checkpoint, { config: options.config });
}

const model = start();
model.then(
  (sam) => post({ type: 'ready', weightsId: sam.weightsId }),
  (err: Error) => post({ type: 'failed', error: err?.message ?? String(err) }),
);

async function encode(id: number, image: RgbImage): Promise<void> {
  const sam = await model;
  // The key is the calling thread's business: an empty one spares hashing the pixels twice.
  const embedding = encodeImage(sam, image, '');
  try {
    const values = (await embedding.embedding.data()) as Float32Array;
    // A view into a larger buffer would transfer (and detach) more than its values.
    const data = values.byteLength === values.buffer.byteLength ? values : values.slice();
    post({ type: 'encoded', id, data, shape: embedding.embedding.shape, inputSize: embedding.inputSize }, [
      data.buffer as ArrayBuffer,
    ]);
  } finally {
    embedding.dispose();
  }
}

port.on('message', (req: EncoderRequest) => {
  if (req.cmd === 'close') {
    model
      .then(
        (sam) => sam.dispose(),
        () => undefined,
      )
      .finally(() => post({ type: 'closed' }));
    return;
  }
  encode(req.id, req.image).catch((err: Error) =>
    post({ type: 'error', id: req.id, error: err?.message ?? String(err) }),
  );
});
