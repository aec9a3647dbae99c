import { Presets, SingleBar } from 'cli-progress';

export interface ProgressBar {
  /** `share` from 0 to 1 when known; the label says what is going on (rows read, rate, …). */
  update(label: string, share?: number): void;
  done(): void;
}

/**
 * The progress bar of the command-line tools, on stderr so stdout stays for results: a bar redrawn
 * in place on a terminal (cli-progress), otherwise a line at every label change and every 10 %.
 */
export function createProgressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
  if (stream.isTTY) {
    const bar = new SingleBar({ stream, format: '[{bar}] {percentage} % {label} ({seconds} s)', barsize: 30, hideCursor: false, clearOnComplete: false }, Presets.legacy);
    let value = 0;
    let shown = false;
    return {
      update(label, share) {
        if (share !== undefined) value = Math.round(Math.min(1, Math.max(0, share)) * 1000);
        if (!shown) bar.start(1000, value, { label, seconds: seconds() });
        else bar.update(value, { label, seconds: seconds() });
        shown = true;
      },
      done() {
        if (shown) bar.stop();
      },
    };
  }
  let lastDecile = -1;
  let lastLabel = '';
  return {
    update(label, share) {
      const decile = share === undefined ? -1 : Math.floor(share * 10);
      // Labels that only count up (rows read) would print a line each: compare their words only.
      const kind = label.replace(/[\d.,]+/g, '#');
      if (kind !== lastLabel || decile > lastDecile) stream.write(`${share === undefined ? '' : `${(share * 100).toFixed(0)} % `}${label} (${seconds()} s)\n`);
      lastLabel = kind;
      lastDecile = decile;
    },
    done() {
      return undefined;
    },
  };
}
