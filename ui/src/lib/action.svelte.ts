// The state every page action shares: busy while a command runs, the error to show
// in place, and a notice of what was done.
import { asError } from "./api";
import type { CommandError } from "./types";

export class Action {
  busy = $state(false);
  error = $state<CommandError | null>(null);
  notice = $state<string | null>(null);
  /** An outcome that went wrong without an error (a rejected upload): shown in red. */
  problem = $state<string | null>(null);

  /** Runs `f`; on failure shows its error and returns undefined. */
  async run<T>(f: () => Promise<T>): Promise<T | undefined> {
    this.busy = true;
    this.error = null;
    this.notice = null;
    this.problem = null;
    try {
      return await f();
    } catch (e) {
      this.error = asError(e);
      return undefined;
    } finally {
      this.busy = false;
    }
  }
}
