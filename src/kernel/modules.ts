// Kernel modules a feature needs, loaded on demand as Docker does (modprobe): a fresh boot may
// not have them yet.
import { locateTool, runProcess } from '../native/process';

/** Runs `modprobe NAME`; resolves with whether it succeeded (a missing module or modprobe is not an error here). */
export async function loadModule(name: string): Promise<boolean> {
  try {
    return (await runProcess(locateTool('modprobe', 'kmod'), ['modprobe', name], { timeoutMs: 10_000 })).status === 0;
  } catch {
    return false;
  }
}
