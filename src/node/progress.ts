/** Terminal progress bars with rate and ETA (cli-progress), quiet when not on a TTY except for periodic lines. */
import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  /** Sets the absolute position and optional named values (losses, accuracies...). */
  update(done: number, values?: Record<string, number | string>): void;
  stop(): void;
}

/**
 * @example
 * const bar = progressBar('train', 1000, 'it');
 * bar.update(10, { loss: 0.3 });
 */
export function progressBar(label: string, total: number, unit = 'it', start = 0): Progress {
  const tty = process.stderr.isTTY === true;
  const t0 = Date.now();
  let lastLine = 0;
  const fmt = (values?: Record<string, number | string>) =>
    Object.entries(values ?? {})
      .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(4) : v}`)
      .join(' ');
  if (!tty) {
    // Logs and CI: one line every 10 s.
    return {
      update(done, values) {
        const now = Date.now();
        if (now - lastLine < 10_000 && done < total) return;
        lastLine = now;
        const seconds = (now - t0) / 1000;
        const rate = seconds >= 1 ? (done - start) / seconds : NaN;
        const eta = rate > 0 ? (total - done) / rate : NaN;
        const rateText = Number.isFinite(rate) ? `${rate.toFixed(2)} ${unit}/s` : `- ${unit}/s`;
        process.stderr.write(
          `${label} ${done}/${total} ${rateText} ETA ${Number.isFinite(eta) ? Math.round(eta) + 's' : '?'} ${fmt(values)}\n`,
        );
      },
      stop() {},
    };
  }
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} | {rate} ${unit}/s | ETA {eta_formatted} | {extra}`,
      hideCursor: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  bar.start(total, start, { rate: '0', extra: '' });
  return {
    update(done, values) {
      const rate = (done - start) / Math.max(1e-3, (Date.now() - t0) / 1000);
      bar.update(done, { rate: rate.toFixed(2), extra: fmt(values) });
    },
    stop() {
      bar.stop();
    },
  };
}
