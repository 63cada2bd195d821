// The HubSpot side of Tandem: pull, write, associate and schema, all through one budgeted caller.

import type { Client } from '@hubspot/api-client';
import type { Logger } from 'pino';
import type { LiveSchema } from '../../domain/mapping/live.js';
import type { HubSpotObjectName } from '../../domain/records.js';
import type { ApiBudget } from '../budget.js';
import type { Checkpoint, CrmConnector, PullOptions, PullPage, WriteOp, WriteOutcome } from '../connector.js';
import { associateHubSpot, type AssociationOutcome, type AssociationPair } from './associations.js';
import { HubSpotCaller, createHubSpotClient, type RetryPolicy } from './client.js';
import { pullHubSpot, type HubSpotPullSettings } from './pull.js';
import { readHubSpotSchema } from './schema.js';
import { writeHubSpot } from './write.js';

export interface HubSpotConnectorOptions extends HubSpotPullSettings {
  accessToken: string;
  /** `https://api.hubapi.com`, or the sandbox's address. */
  baseUrl: string;
  /** The API budget shared by every worker (omit only in tools that must not be limited). */
  budget?: ApiBudget;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
}

/**
 * @example
 * const hubspot = new HubSpotConnector({ accessToken, baseUrl, budget, properties: { contacts: ['email'] } });
 * for await (const page of hubspot.pull('contacts', await checkpoints.get('hubspot', 'contacts'))) {
 *   await handle(page.records, page.deleted);
 *   await checkpoints.save('hubspot', 'contacts', page.checkpoint);
 * }
 */
export class HubSpotConnector implements CrmConnector<'hubspot'> {
  readonly system = 'hubspot' as const;
  readonly caller: HubSpotCaller;
  private schema: Promise<LiveSchema['hubspot']> | undefined;

  constructor(private readonly options: HubSpotConnectorOptions) {
    this.caller = new HubSpotCaller(
      createHubSpotClient(options),
      options.budget,
      options.retry ?? {},
      options.logger,
    );
  }

  get client(): Client {
    return this.caller.client;
  }

  pull(
    object: HubSpotObjectName,
    checkpoint: Checkpoint | null,
    options: PullOptions = {},
  ): AsyncIterable<PullPage> {
    return pullHubSpot(this.caller, object, checkpoint, this.options, options);
  }

  write(object: HubSpotObjectName, ops: readonly WriteOp[]): Promise<WriteOutcome[]> {
    return writeHubSpot(this.caller, object, ops);
  }

  associate(pairs: readonly AssociationPair[]): Promise<AssociationOutcome[]> {
    return associateHubSpot(this.caller, pairs);
  }

  readSchema(): Promise<LiveSchema['hubspot']> {
    this.schema ??= readHubSpotSchema(this.client, (fn) => this.caller.call(fn as never)).catch(
      (error: unknown) => {
        this.schema = undefined;
        throw error;
      },
    );
    return this.schema;
  }
}
