/**
 * Jest's node environment with the host's typed-array constructors. onnxruntime-node builds its
 * output tensors from arrays made in the host realm and checks them with `instanceof` against the
 * test realm's constructors; jest shares Uint8Array (the frames) but not Float32Array, so a float
 * output (calibration reads activations) would fail. jest.config.js makes it every test file's.
 */
import NodeEnvironment from 'jest-environment-node';

const TYPED_ARRAYS = {
  Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Uint16Array, Uint32Array, BigInt64Array, BigUint64Array,
};

export default class OnnxEnvironment extends NodeEnvironment {
  override async setup(): Promise<void> {
    await super.setup();
    Object.assign(this.global, TYPED_ARRAYS);
  }
}
