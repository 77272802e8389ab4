/** "running… 2.3 s" on a terminal's stderr for runs longer than a second; silent otherwise. */
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export function showProgress(what: string, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return () => undefined;
  const started = Date.now();
  let frame = 0;
  let shown = false;
  const timer = setInterval(() => {
    const elapsed = (Date.now() - started) / 1000;
    if (elapsed < 1) return;
    shown = true;
    stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${what} ${elapsed.toFixed(1)} s`);
  }, 100);
  return () => {
    clearInterval(timer);
    if (shown) stream.write("\r\x1b[2K");
  };
}
