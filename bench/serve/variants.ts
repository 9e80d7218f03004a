// The appliance variants a cost tool compares, from its command line: `name:K=V,K=V` each, the
// environment the appliance runs with (e.g. `pool:EDGEBOX_DISK_ON_LOOP=0`); none given → one
// variant, `default`, with the environment as it is.

export interface EnvVariant {
  name: string;
  env: Record<string, string>;
}

export function envVariants(specs: string[]): EnvVariant[] {
  return (specs.length > 0 ? specs : ['default:']).map((spec) => {
    const [name, envs = ''] = spec.split(/:(.*)/s);
    const env: Record<string, string> = {};
    for (const kv of envs.split(',').filter(Boolean)) {
      const [k, v] = kv.split('=');
      env[k] = v;
    }
    return { name, env };
  });
}

/** Run `start` with `env` set in this process's environment (a daemon it starts inherits it), then put it back. */
export async function withEnv<T>(env: Record<string, string>, start: () => Promise<T>): Promise<T> {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    return await start();
  } finally {
    for (const [k, was] of saved) {
      if (was === undefined) delete process.env[k];
      else process.env[k] = was;
    }
  }
}
