import type { WorldBuilder } from './builder.js';
import type { PersonPlan } from './plan.js';
import type { SalesforceRecord } from './schema.js';
import { DAY_MS, HOUR_MS, salesforceDate } from './time.js';
import { CAMPAIGNS } from './vocabulary.js';

interface CampaignPlan {
  row: SalesforceRecord;
  startsAt: number;
  endsAt: number;
}

function emitCampaigns(builder: WorldBuilder): CampaignPlan[] {
  const { dice, options, now } = builder;
  const campaigns: CampaignPlan[] = [];
  for (let i = 0; i < options.campaigns; i += 1) {
    const template = CAMPAIGNS[i % CAMPAIGNS.length] ?? CAMPAIGNS[0];
    if (!template) break;
    const round = Math.floor(i / CAMPAIGNS.length);
    const startsAt = dice.between(now - 600 * DAY_MS, now - 20 * DAY_MS);
    const endsAt =
      startsAt + (template.type === 'Email' || template.type === 'Advertisement' ? 90 : 2) * DAY_MS;
    const status = endsAt < now ? 'Completed' : 'In Progress';
    const createdAt = startsAt - dice.int(10, 40) * DAY_MS;
    const row = builder.salesforceRow(
      'Campaign',
      {
        Name: round === 0 ? template.name : `${template.name} (${round + 1})`,
        Type: template.type,
        Status: status,
        StartDate: salesforceDate(startsAt),
        EndDate: salesforceDate(endsAt),
        IsActive: status === 'In Progress',
        BudgetedCost: template.budget,
        ActualCost: Math.round(template.budget * (0.7 + dice.float() * 0.5)),
      },
      createdAt,
      dice.between(createdAt, Math.min(endsAt, now - HOUR_MS)),
    );
    campaigns.push({ row, startsAt, endsAt });
  }
  return campaigns;
}

/**
 * Campaign memberships are Salesforce's touchpoints: each Salesforce person joins a few campaigns
 * (on their Contact if they have one, else their Lead), and some respond.
 */
export function emitCampaignsAndMembers(builder: WorldBuilder, people: readonly PersonPlan[]): void {
  const { dice, now } = builder;
  const campaigns = emitCampaigns(builder);
  if (campaigns.length === 0) return;
  for (const person of people) {
    const row = person.contact ?? person.lead;
    if (!row) continue;
    const memberships = dice.weighted([0, 1, 2, 3], [40, 35, 17, 8]);
    const joined = new Set<CampaignPlan>();
    for (let m = 0; m < memberships; m += 1) {
      const campaign = dice.pick(campaigns);
      if (joined.has(campaign)) continue;
      joined.add(campaign);
      const from = Math.max(campaign.startsAt - 14 * DAY_MS, person.createdAt);
      const createdAt = dice.between(from, Math.max(from, Math.min(campaign.endsAt, now - HOUR_MS)));
      const responded = dice.chance(0.4);
      const respondedAt = responded
        ? dice.between(createdAt, Math.min(createdAt + 7 * DAY_MS, now - HOUR_MS))
        : null;
      builder.salesforceRow(
        'CampaignMember',
        {
          CampaignId: campaign.row.Id,
          LeadId: person.contact ? null : row.Id,
          ContactId: person.contact ? row.Id : null,
          Status: responded ? 'Responded' : 'Sent',
          HasResponded: responded,
          FirstRespondedDate: respondedAt === null ? null : salesforceDate(respondedAt),
        },
        createdAt,
        respondedAt ?? createdAt,
      );
    }
  }
}
