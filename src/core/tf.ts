/**
 * The one TensorFlow.js entry point of the core. Every core module imports tf from here so that
 * gradients are registered (tfjs-core's index registers none) and our faster, backend-portable
 * gradient formulations are installed before any model runs, on every backend and runtime.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { registerPortableGradients } from './gradients/index.js';

registerPortableGradients();

export * from '@tensorflow/tfjs-core';
