// One line of progress for the long first-run steps (making the master, packaging): a bar redrawn
// in place on a terminal; on a pipe or file (CI, tests), a plain line every 10% and at each stage.

export interface ProgressBar {
  update(percent: number, detail?: string): void;
  /** ends the line with a final message */
  done(message: string): void;
}

const WIDTH = 28;

function clock(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

export function progressBar(label: string, out: NodeJS.WriteStream = process.stdout): ProgressBar {
  const tty = out.isTTY === true;
  const start = Date.now();
  let lastStep = -1;
  let lastDetail = '';
  const eta = (p: number) => (p >= 3 && p < 100 ? ` ETA ${clock(((Date.now() - start) / 1000) * (100 - p) / p)}` : '');
  return {
    update(percent, detail = '') {
      const p = Math.max(0, Math.min(100, percent));
      if (tty) {
        const fill = Math.round((p / 100) * WIDTH);
        const line = `${label} [${'#'.repeat(fill)}${'.'.repeat(WIDTH - fill)}] ${p.toFixed(0).padStart(3)}%${eta(p)} ${detail}`;
        out.write(`\r\x1b[K${line.slice(0, (out.columns || 120) - 1)}`);
        return;
      }
      const step = Math.floor(p / 10);
      if (step === lastStep && detail === lastDetail) return;
      lastStep = step;
      lastDetail = detail;
      out.write(`${label} ${p.toFixed(0).padStart(3)}%${eta(p)} ${detail}\n`);
    },
    done(message) {
      const took = clock((Date.now() - start) / 1000);
      out.write(`${tty ? '\r\x1b[K' : ''}${label} done in ${took}: ${message}\n`);
    },
  };
}
