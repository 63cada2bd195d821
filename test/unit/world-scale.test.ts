import { describe, expect, it } from '@jest/globals';
import { generateWorldWithManifest } from '../../src/sandbox/world/generate.js';

// Benchmarks load 100,000-person worlds; this only checks that one completes with the right counts.
describe('a 100,000-person world', () => {
  it('generates with the expected counts', () => {
    const { world, manifest } = generateWorldWithManifest({ seed: 'scale', persons: 100_000 });
    const { people } = manifest;
    expect(people).toHaveLength(100_000);
    expect(manifest.companies).toHaveLength(10_000);
    const inHubSpot = people.filter((p) => p.hubspotContactId).length;
    const extraContacts = manifest.mess.hubspotAdditionalEmailDuplicates.length;
    expect(world.hubspot.contacts).toHaveLength(inHubSpot + extraContacts);
    expect(inHubSpot / 100_000).toBeCloseTo(0.8, 1);
    const { records, deleted } = world.salesforce;
    const leadsAndContacts = new Set(people.flatMap((p) => [p.leadId, p.contactId]).filter(Boolean));
    const extraLeads =
      manifest.mess.salesforceDuplicateLeads.length + manifest.mess.leadContactDuplicates.length;
    expect(records.Lead.length + records.Contact.length + deleted.length).toBe(
      leadsAndContacts.size + extraLeads,
    );
    const deals = manifest.deals.length;
    expect(deals).toBeGreaterThan(19_000);
    expect(deals).toBeLessThan(21_000);
    expect(manifest.mess.massImport.hubspotContactIds.length).toBeGreaterThan(1_000);
  }, 120_000);
});
