/**
 * TensorFlow.js backend selection for dense, data-parallel kernels.
 *
 * Order: native TensorFlow (`@tensorflow/tfjs-node-gpu` on GPU hosts when `gpu` is asked,
 * `@tensorflow/tfjs-node` otherwise) when installed → WASM (SIMD) → the pure-JS `cpu` backend.
 * The native packages are optional dependencies (they download libtensorflow at install time),
 * so the CPU install never needs them. TensorFlow.js computes in float32.
 */
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

export type TensorBackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = TensorBackendName | 'gpu' | 'auto';

let active: TensorBackendName | null = null;

function tryRequire(name: string): boolean {
  try {
    require(name);
    return true;
  } catch {
    return false;
  }
}

/** Initialise (once) and return the active tensor backend. */
export async function initTensorBackend(
  pref: BackendPreference = 'auto',
): Promise<TensorBackendName> {
  if (active && (pref === 'auto' || pref === active)) return active;
  const want =
    pref === 'auto'
      ? ((process.env.OMICSELECTOR_BACKEND as BackendPreference | undefined) ?? 'auto')
      : pref;
  const candidates: TensorBackendName[] =
    want === 'cpu' ? ['cpu'] : want === 'wasm' ? ['wasm', 'cpu'] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of candidates) {
    if (await activate(name, want === 'gpu')) {
      active = name;
      return name;
    }
  }
  throw new Error('no TensorFlow.js backend could be initialised');
}

async function activate(name: TensorBackendName, gpu: boolean): Promise<boolean> {
  if (name === 'tensorflow') {
    const loaded =
      (gpu && tryRequire('@tensorflow/tfjs-node-gpu')) || tryRequire('@tensorflow/tfjs-node');
    if (!loaded) return false;
    return tf.setBackend('tensorflow');
  }
  if (name === 'wasm') {
    if (!tryRequire('@tensorflow/tfjs-backend-wasm')) return false;
    const wasm =
      require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
    return tf.setBackend('wasm');
  }
  require('@tensorflow/tfjs-backend-cpu');
  return tf.setBackend('cpu');
}

export function activeTensorBackend(): TensorBackendName | null {
  return active;
}

export { tf };
