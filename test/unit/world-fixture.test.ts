import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { isSalesforceId } from '../../src/sandbox/world/salesforce-id.js';
import { WorldSchema } from '../../src/sandbox/world/schema.js';

// The example world docs/WORLD.md describes; `--seed test/fixtures/worlds/tiny.json` loads it.
const fixture: unknown = JSON.parse(
  readFileSync(new URL('../fixtures/worlds/tiny.json', import.meta.url), 'utf8'),
);

describe('test/fixtures/worlds/tiny.json', () => {
  it('validates against WorldSchema', () => {
    const result = WorldSchema.safeParse(fixture);
    expect(result.error?.issues).toBeUndefined();
  });

  it('uses valid Salesforce ids and references only rows it has', () => {
    const world = WorldSchema.parse(fixture);
    const rows = Object.values(world.salesforce.records).flat();
    const ids = new Set(rows.map((r) => r.Id));
    expect(rows.filter((r) => !isSalesforceId(r.Id))).toEqual([]);
    const lookups = rows.flatMap((r) =>
      [
        'AccountId',
        'ContactId',
        'OpportunityId',
        'CampaignId',
        'LeadId',
        'ConvertedContactId',
        'ConvertedAccountId',
      ]
        .map((field) => r[field])
        .filter((value): value is string => typeof value === 'string'),
    );
    expect(lookups.filter((id) => !ids.has(id))).toEqual([]);
    const hubspotIds = new Set(
      [...world.hubspot.contacts, ...world.hubspot.companies, ...world.hubspot.deals].map((r) => r.id),
    );
    const ends = world.hubspot.associations.flatMap((a) => [a.fromId, a.toId]);
    expect(ends.filter((id) => !hubspotIds.has(id))).toEqual([]);
  });
});
