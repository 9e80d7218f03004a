// Where the external programs are. ffmpeg and ffprobe are looked up in the order the issue
// fixes: FFMPEG_PATH / FFPROBE_PATH, then the static builds shipped by npm (@ffmpeg-installer has
// libvmaf), then whatever is on PATH. Shaka Packager comes from the `shaka-packager` npm package.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ffmpeg from 'fluent-ffmpeg';

const require = createRequire(import.meta.url);

export interface Tools {
  ffmpeg: string;
  ffprobe: string;
  shaka: string;
}

function fromPackage(pkg: string): string | undefined {
  try {
    const p = (require(pkg) as { path?: string }).path;
    return p && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

function shakaBinary(): string {
  const names: Record<string, string> = {
    'linux-x64': 'packager-linux-x64',
    'linux-arm64': 'packager-linux-arm64',
    'darwin-x64': 'packager-osx-x64',
    'darwin-arm64': 'packager-osx-arm64',
    'win32-x64': 'packager-win-x64.exe',
  };
  const name = names[`${process.platform}-${process.arch}`];
  if (!name) throw new Error(`Shaka Packager has no binary for ${process.platform}-${process.arch}`);
  const bin = join(dirname(require.resolve('shaka-packager/package.json')), 'bin', name);
  if (!existsSync(bin)) throw new Error(`Shaka Packager binary missing: ${bin}`);
  return bin;
}

let cached: Tools | undefined;

/** Resolve the tools once and point fluent-ffmpeg at them. */
export function tools(env: NodeJS.ProcessEnv = process.env): Tools {
  if (cached) return cached;
  const t: Tools = {
    ffmpeg: env.FFMPEG_PATH || fromPackage('@ffmpeg-installer/ffmpeg') || 'ffmpeg',
    ffprobe: env.FFPROBE_PATH || fromPackage('@ffprobe-installer/ffprobe') || 'ffprobe',
    shaka: shakaBinary(),
  };
  ffmpeg.setFfmpegPath(t.ffmpeg);
  ffmpeg.setFfprobePath(t.ffprobe);
  cached = t;
  return t;
}
