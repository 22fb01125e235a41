// One activated plugin: its client and what it implements, and the call every remote driver and
// IPAM makes through it, turning Err/Error answers and malformed ones into PluginErrors.
import { PluginClient, PluginError, type PluginClientOptions } from './client';
import { AnswerError, answerError, decodeActivate } from './codec';
import type { FoundPlugin } from './discovery';

export class Plugin {
  private constructor(
    readonly name: string,
    readonly client: PluginClient,
    /** "NetworkDriver", "IpamDriver", ... as Plugin.Activate listed them. */
    readonly implementsList: readonly string[],
  ) {}

  /** Plugin.Activate, with Docker's retries while the plugin is not up yet. */
  static async activate(found: FoundPlugin, options: PluginClientOptions = {}): Promise<Plugin> {
    const client = new PluginClient(found.name, found.address, options);
    try {
      const implementsList = await call(client, 'Plugin.Activate', undefined, decodeActivate, 'Err');
      return new Plugin(found.name, client, implementsList);
    } catch (error) {
      client.close();
      throw error;
    }
  }

  implements(subsystem: string): boolean {
    return this.implementsList.includes(subsystem);
  }

  call<T>(method: string, body: unknown, decode: (answer: unknown) => T, errorField: 'Err' | 'Error' = 'Err'): Promise<T> {
    return call(this.client, method, body, decode, errorField);
  }

  close(): void {
    this.client.close();
  }
}

async function call<T>(client: PluginClient, method: string, body: unknown, decode: (answer: unknown) => T, errorField: 'Err' | 'Error'): Promise<T> {
  const answer = await client.call(method, body);
  const reported = answerError(answer, errorField);
  if (reported !== undefined) throw new PluginError(`plugin "${client.plugin}" ${method} failed: ${reported}`, client.plugin, method, 200);
  try {
    return decode(answer);
  } catch (error) {
    if (error instanceof AnswerError) throw new PluginError(`plugin "${client.plugin}" answered ${method} wrongly: ${error.message}`, client.plugin, method, 200);
    throw error;
  }
}
