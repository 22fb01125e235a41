// Signals as Docker reads them (ParseSignal): a number from 1 to 64, or a name in any case with or
// without SIG, the real-time ones as RTMIN, RTMIN+1..RTMIN+15, RTMAX-14..RTMAX-1, RTMAX. Pure.
import os from 'node:os';

/** glibc's real-time range: the kernel's first two real-time signals belong to the C library. */
const SIGRTMIN = 34;
const SIGRTMAX = 64;

const BY_NAME = new Map<string, number>([
  ...Object.entries(os.constants.signals).map(([name, number]): [string, number] => [name.slice('SIG'.length), number]),
  ['CLD', os.constants.signals.SIGCHLD],
  ['RTMIN', SIGRTMIN],
  ['RTMAX', SIGRTMAX],
  ...Array.from({ length: 15 }, (_, i): [string, number] => [`RTMIN+${i + 1}`, SIGRTMIN + i + 1]),
  ...Array.from({ length: 14 }, (_, i): [string, number] => [`RTMAX-${i + 1}`, SIGRTMAX - i - 1]),
]);

/** The signal's number, or undefined when `text` names none. */
export function parseSignal(text: string): number | undefined {
  if (/^[+-]?\d+$/.test(text)) {
    const number = Number(text);
    return number >= 1 && number <= SIGRTMAX ? number : undefined;
  }
  return BY_NAME.get(text.toUpperCase().replace(/^SIG/, ''));
}
