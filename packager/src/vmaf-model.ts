import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where the VMAF model is, for tests, benches and the dev site. The model is not in the
 * repository (../shared/vmaf sits beside the clone); EDGEBOX_PACKAGER_VMAF_MODEL_PATH names it
 * when the clone lives elsewhere, e.g. `mktemp -d` clones in CI proofs.
 */
export const VMAF_MODEL_ENV = 'EDGEBOX_PACKAGER_VMAF_MODEL_PATH';

export function defaultVmafModelPath(env: NodeJS.ProcessEnv = process.env): string {
  return env[VMAF_MODEL_ENV] || fileURLToPath(new URL('../../../shared/vmaf/vmaf_v0.6.1.pkl', import.meta.url));
}

/** the model path if the model (and libvmaf's .model sidecar for .pkl) is there, else '' */
export function vmafModelIfPresent(env: NodeJS.ProcessEnv = process.env): string {
  const p = defaultVmafModelPath(env);
  return existsSync(p) && (!p.endsWith('.pkl') || existsSync(`${p}.model`)) ? p : '';
}
