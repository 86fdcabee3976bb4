import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr for long commands, with the name of the phase running (for work that goes on after
 * the counted part is done); silent when stderr is not a terminal (CI logs stay clean).
 */
export function createProgress(label: string, total: number) {
  if (!process.stderr.isTTY) {
    return { advance: (_n: number) => {}, phase: (_name: string) => {}, stop: () => {} };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(10)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} {phase}`,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { phase: '' });
  return {
    advance: (n: number) => bar.increment(n),
    phase: (name: string) => bar.update({ phase: name }),
    stop: () => bar.stop(),
  };
}
