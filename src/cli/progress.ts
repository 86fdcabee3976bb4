import cliProgress from 'cli-progress';

/** A progress bar on stderr for long commands; silent when stderr is not a terminal (CI logs stay clean). */
export function createProgress(label: string, total: number) {
  if (!process.stderr.isTTY) {
    return { advance: (_n: number) => {}, stop: () => {} };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(10)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { advance: (n: number) => bar.increment(n), stop: () => bar.stop() };
}
