/**
 * The words a demo world is made of: names, places, titles, industries and each CRM's picklists.
 * A name has its display form (what the CRM shows, often with accents, scripts or worse) and the ASCII
 * form an email address would use.
 */

export interface NamePart {
  display: string;
  ascii: string;
}

const plain = (names: string): NamePart[] =>
  names.split(' ').map((name) => ({ display: name, ascii: name.toLowerCase() }));

export const COMMON_FIRST_NAMES: readonly NamePart[] = plain(
  'James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan ' +
    'Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Steven ' +
    'Ashley Paul Emily Andrew Donna Joshua Michelle Kevin Carol Brian Amanda Priya Rahul Wei Mei Hiroshi ' +
    'Yuki Olga Ivan Lars Ingrid Pieter Anke Luca Giulia Carlos Lucia Aisha Omar Kwame Amara Liam Emma Noah ' +
    'Olivia Mateo Sofia Elena Marco Hannah Felix Chloe Ethan Grace Raj Ananya Kenji Sakura Diego Camila',
);

export const COMMON_LAST_NAMES: readonly NamePart[] = plain(
  'Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez ' +
    'Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark ' +
    'Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams ' +
    'Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel Sharma Chen Wang Tanaka Suzuki Kim ' +
    'Park Schmidt Fischer Weber Rossi Bianchi Dubois Lambert Jansen Visser Kowalski Novak Ivanova Okafor ' +
    'Mensah Andersson Larsen Murphy Kelly Singh Costa Silva',
);

/** Names with accents, other scripts and right-to-left text: the dashboard and every export must cope. */
export const INTERNATIONAL_FIRST_NAMES: readonly NamePart[] = [
  { display: 'José', ascii: 'jose' },
  { display: 'Zoë', ascii: 'zoe' },
  { display: 'Søren', ascii: 'soren' },
  { display: 'François', ascii: 'francois' },
  { display: 'Łukasz', ascii: 'lukasz' },
  { display: 'Björn', ascii: 'bjorn' },
  { display: 'Renée', ascii: 'renee' },
  { display: 'Çağla', ascii: 'cagla' },
  { display: 'Nguyễn Thị', ascii: 'nguyen' },
  { display: 'محمد', ascii: 'mohammed' },
  { display: 'فاطمة', ascii: 'fatima' },
  { display: 'נועה', ascii: 'noa' },
  { display: 'אבי', ascii: 'avi' },
  { display: '伟', ascii: 'wei' },
  { display: 'さくら', ascii: 'sakura' },
  { display: 'Дмитрий', ascii: 'dmitry' },
  { display: 'Ἀλέξανδρος', ascii: 'alexandros' },
];

export const INTERNATIONAL_LAST_NAMES: readonly NamePart[] = [
  { display: 'Müller', ascii: 'mueller' },
  { display: 'Núñez', ascii: 'nunez' },
  { display: "O'Brien", ascii: 'obrien' },
  { display: 'Ødegård', ascii: 'odegard' },
  { display: 'Wiśniewska', ascii: 'wisniewska' },
  { display: 'Gómez-Pérez', ascii: 'gomezperez' },
  { display: 'van der Berg', ascii: 'vanderberg' },
  { display: 'Łęcka', ascii: 'lecka' },
  { display: 'العلي', ascii: 'alali' },
  { display: 'حداد', ascii: 'haddad' },
  { display: 'כהן', ascii: 'cohen' },
  { display: 'לוי', ascii: 'levi' },
  { display: '王', ascii: 'wang' },
  { display: '佐藤', ascii: 'sato' },
  { display: 'Смирнова', ascii: 'smirnova' },
];

/** Names people really type into forms: emoji, and the occasional attempt at markup. */
export const EMOJI_FIRST_NAMES: readonly NamePart[] = [
  { display: 'Sam 🚀', ascii: 'sam' },
  { display: 'Alex ✨', ascii: 'alex' },
  { display: '🦄 Jo', ascii: 'jo' },
];

export const MARKUP_FIRST_NAMES: readonly NamePart[] = [
  { display: '<b>Bob</b>', ascii: 'bob' },
  { display: '<script>alert(1)</script>Eve', ascii: 'eve' },
  { display: 'Tom & "Jerry"', ascii: 'tom' },
];

export interface Country {
  /** As HubSpot and Salesforce store it (free text in both by default). */
  name: string;
  code: string;
  cities: readonly string[];
  /** Phone number shapes; `#` is a random digit. */
  phoneFormats: readonly string[];
}

export const COUNTRIES: readonly Country[] = [
  {
    name: 'United States',
    code: 'US',
    cities: ['New York', 'San Francisco', 'Austin', 'Chicago', 'Boston', 'Seattle', 'Denver', 'Atlanta'],
    phoneFormats: [
      '+1 ###-555-01##',
      '(###) 555-01##',
      '###.555.01##',
      '###5550 1##',
      '+1 (###) 555-01## x###',
    ],
  },
  {
    name: 'United Kingdom',
    code: 'GB',
    cities: ['London', 'Manchester', 'Edinburgh', 'Bristol', 'Leeds'],
    phoneFormats: ['+44 20 7946 0###', '020 7946 0###', '+44 (0)161 496 0###', '07700 900###'],
  },
  {
    name: 'Germany',
    code: 'DE',
    cities: ['Berlin', 'München', 'Hamburg', 'Köln', 'Frankfurt am Main'],
    phoneFormats: ['+49 30 ########', '030 / ### ## ##', '+49 (0)89 #######'],
  },
  {
    name: 'France',
    code: 'FR',
    cities: ['Paris', 'Lyon', 'Marseille', 'Toulouse', 'Nantes'],
    phoneFormats: ['+33 1 ## ## ## ##', '01 ## ## ## ##', '+33 (0)6 ## ## ## ##'],
  },
  {
    name: 'Netherlands',
    code: 'NL',
    cities: ['Amsterdam', 'Rotterdam', 'Utrecht', 'Eindhoven'],
    phoneFormats: ['+31 20 ### ####', '020-#######'],
  },
  {
    name: 'Spain',
    code: 'ES',
    cities: ['Madrid', 'Barcelona', 'Valencia', 'Sevilla', 'Málaga'],
    phoneFormats: ['+34 91 ### ## ##', '91 ### ## ##'],
  },
  {
    name: 'Canada',
    code: 'CA',
    cities: ['Toronto', 'Montréal', 'Vancouver', 'Calgary', 'Ottawa'],
    phoneFormats: ['+1 416-555-01##', '(604) 555-01##'],
  },
  {
    name: 'Australia',
    code: 'AU',
    cities: ['Sydney', 'Melbourne', 'Brisbane', 'Perth'],
    phoneFormats: ['+61 2 #### ####', '(02) #### ####', '04## ### ###'],
  },
  {
    name: 'Japan',
    code: 'JP',
    cities: ['Tokyo', 'Osaka', '横浜', 'Kyoto'],
    phoneFormats: ['+81 3-####-####', '03-####-####'],
  },
  {
    name: 'India',
    code: 'IN',
    cities: ['Bengaluru', 'Mumbai', 'Pune', 'Hyderabad', 'Chennai'],
    phoneFormats: ['+91 ##### #####', '+91-80-########'],
  },
  {
    name: 'Brazil',
    code: 'BR',
    cities: ['São Paulo', 'Rio de Janeiro', 'Belo Horizonte', 'Curitiba'],
    phoneFormats: ['+55 11 #####-####', '(11) #####-####'],
  },
  {
    name: 'Israel',
    code: 'IL',
    cities: ['Tel Aviv', 'תל אביב', 'Haifa', 'Jerusalem'],
    phoneFormats: ['+972 3-###-####', '03-###-####'],
  },
  {
    name: 'United Arab Emirates',
    code: 'AE',
    cities: ['Dubai', 'Abu Dhabi', 'دبي'],
    phoneFormats: ['+971 4 ### ####', '04 ### ####'],
  },
];

/** Relative weights of `COUNTRIES`, so most of the book is in the US and western Europe. */
export const COUNTRY_WEIGHTS: readonly number[] = [40, 12, 9, 6, 4, 4, 5, 4, 3, 4, 3, 3, 3];

export const JOB_TITLES: readonly string[] = [
  'CEO',
  'Founder & CEO',
  'CTO',
  'CMO',
  'VP Marketing',
  'VP of Sales',
  'VP Engineering',
  'Head of Growth',
  'Head of Revenue Operations',
  'Director of Demand Generation',
  'Marketing Director',
  'Sales Director',
  'Director, IT',
  'Marketing Operations Manager',
  'RevOps Manager',
  'Sales Operations Analyst',
  'Account Executive',
  'Senior Account Executive',
  'Business Development Representative',
  'SDR',
  'Product Manager',
  'Senior Software Engineer',
  'Data Analyst',
  'Procurement Manager',
  'Office Manager',
  'Operations Manager',
  'Customer Success Manager',
  'IT Manager',
  'CFO',
  'Controller',
];

export interface Industry {
  /** The contact's free-text `industry` in HubSpot, and what people type. */
  label: string;
  /** HubSpot company `industry` enumeration value. */
  hubspot: string;
  /** Salesforce's standard Industry picklist value. */
  salesforce: string;
}

export const INDUSTRIES: readonly Industry[] = [
  { label: 'Computer Software', hubspot: 'COMPUTER_SOFTWARE', salesforce: 'Technology' },
  {
    label: 'Information Technology & Services',
    hubspot: 'INFORMATION_TECHNOLOGY_AND_SERVICES',
    salesforce: 'Technology',
  },
  { label: 'Financial Services', hubspot: 'FINANCIAL_SERVICES', salesforce: 'Finance' },
  { label: 'Banking', hubspot: 'BANKING', salesforce: 'Banking' },
  { label: 'Hospital & Health Care', hubspot: 'HOSPITAL_HEALTH_CARE', salesforce: 'Healthcare' },
  { label: 'Biotechnology', hubspot: 'BIOTECHNOLOGY', salesforce: 'Biotechnology' },
  { label: 'Retail', hubspot: 'RETAIL', salesforce: 'Retail' },
  { label: 'Telecommunications', hubspot: 'TELECOMMUNICATIONS', salesforce: 'Telecommunications' },
  { label: 'Management Consulting', hubspot: 'MANAGEMENT_CONSULTING', salesforce: 'Consulting' },
  { label: 'Marketing & Advertising', hubspot: 'MARKETING_AND_ADVERTISING', salesforce: 'Media' },
  { label: 'Higher Education', hubspot: 'HIGHER_EDUCATION', salesforce: 'Education' },
  { label: 'Insurance', hubspot: 'INSURANCE', salesforce: 'Insurance' },
  { label: 'Construction', hubspot: 'CONSTRUCTION', salesforce: 'Construction' },
  { label: 'Food & Beverages', hubspot: 'FOOD_BEVERAGES', salesforce: 'Food & Beverage' },
  { label: 'Oil & Energy', hubspot: 'OIL_ENERGY', salesforce: 'Energy' },
  { label: 'Logistics & Supply Chain', hubspot: 'LOGISTICS_AND_SUPPLY_CHAIN', salesforce: 'Transportation' },
  { label: 'Hospitality', hubspot: 'HOSPITALITY', salesforce: 'Hospitality' },
  { label: 'Government Administration', hubspot: 'GOVERNMENT_ADMINISTRATION', salesforce: 'Government' },
  {
    label: 'Non-Profit Organization Management',
    hubspot: 'NON_PROFIT_ORGANIZATION_MANAGEMENT',
    salesforce: 'Not For Profit',
  },
  { label: 'Machinery', hubspot: 'MACHINERY', salesforce: 'Machinery' },
  { label: 'Utilities', hubspot: 'UTILITIES', salesforce: 'Utilities' },
];

/** Picklist values an admin added on one side only: no mapping will know them. */
export const UNMAPPED_LEAD_SOURCES: readonly string[] = [
  'Trade Show 2019',
  'Webinar (old)',
  'LinkedIn Sales Nav',
];
export const UNMAPPED_SALESFORCE_INDUSTRIES: readonly string[] = ['Cannabis', 'Aerospace & Defence'];
export const UNMAPPED_HUBSPOT_INDUSTRIES: readonly string[] = ['Crypto / Web3', 'Space Tourism'];

export const COMPANY_WORDS: readonly string[] = (
  'Acme Globex Initech Umbrella Stark Wayne Hooli Vandelay Soylent Cyberdyne Tyrell Wonka Aperture ' +
  'Massive Dynamic Gringotts Oscorp Nakatomi Virtucon Pied Piper Blue Sun Monarch Octan Kramerica ' +
  'Northwind Contoso Fabrikam Tailspin Woodgrove Litware Proseware Adatum Lucerne Margie Alpine Coho ' +
  'Fourth Coffee Wingtip Trey Humongous Relecloud Bluepeak Brightline Cobalt Driftwood Evergreen Fjord ' +
  'Granite Harbor Ironclad Juniper Keystone Lighthouse Meridian Nimbus Orchard Pinnacle Quartz Redwood ' +
  'Summit Tidewater Upland Vertex Willow Yellowtail Zephyr Atlas Beacon Cascade Delta Ember Falcon'
).split(' ');

export const COMPANY_SUFFIXES: readonly string[] = [
  'Inc.',
  'Labs',
  'Systems',
  'Group',
  'GmbH',
  'Ltd',
  'Technologies',
  'Analytics',
  'Logistics',
  'Partners',
  'Health',
  'Software',
  'AG',
  'S.A.',
  'Holdings',
  '& Co.',
];

/** A few company names that stress escaping and Unicode handling, with the stem their domain uses. */
export const AWKWARD_COMPANIES: readonly { name: string; stem: string }[] = [
  { name: 'Müller & Söhne GmbH', stem: 'mueller-soehne' },
  { name: 'Café Crème S.à r.l.', stem: 'cafecreme' },
  { name: 'AT&T <Enterprise>', stem: 'att-enterprise' },
  { name: 'שטראוס גרופ', stem: 'strauss-group' },
  { name: 'شركة الأفق', stem: 'alofoq' },
  { name: '株式会社サンプル', stem: 'sample-kk' },
  { name: "L'Atelier Numérique", stem: 'latelier-numerique' },
];

export const TOP_LEVEL_DOMAINS: readonly string[] = [
  'com',
  'com',
  'com',
  'io',
  'co',
  'de',
  'co.uk',
  'fr',
  'net',
];

/** HubSpot's `hs_analytics_source` values with a plausible `hs_analytics_source_data_1` drill-down. */
export const ANALYTICS_SOURCES: readonly { source: string; weight: number; details: readonly string[] }[] = [
  { source: 'ORGANIC_SEARCH', weight: 24, details: ['google', 'bing', 'duckduckgo'] },
  { source: 'PAID_SEARCH', weight: 14, details: ['google', 'bing'] },
  {
    source: 'EMAIL_MARKETING',
    weight: 10,
    details: ['Q3 Nurture - RevOps', 'Product Update Oct', 'Webinar Invite: Attribution 101'],
  },
  { source: 'SOCIAL_MEDIA', weight: 8, details: ['LinkedIn', 'Twitter', 'Facebook'] },
  { source: 'REFERRALS', weight: 9, details: ['g2.com', 'capterra.com', 'partner.example.com'] },
  { source: 'OTHER_CAMPAIGNS', weight: 6, details: ['spring-launch', 'podcast-sponsorship'] },
  { source: 'DIRECT_TRAFFIC', weight: 12, details: ['/pricing', '/demo', '/'] },
  { source: 'OFFLINE', weight: 11, details: ['IMPORT', 'CRM_UI', 'INTEGRATION', 'API'] },
  { source: 'PAID_SOCIAL', weight: 6, details: ['LinkedIn', 'Facebook'] },
];

export const LEAD_SOURCES: readonly string[] = [
  'Web',
  'Phone Inquiry',
  'Partner Referral',
  'Purchased List',
  'Other',
];

/** The Salesforce LeadSource a person with this HubSpot original source would most plausibly carry. */
export const LEAD_SOURCE_FOR_ANALYTICS_SOURCE: Readonly<Record<string, string>> = {
  ORGANIC_SEARCH: 'Web',
  PAID_SEARCH: 'Web',
  EMAIL_MARKETING: 'Web',
  SOCIAL_MEDIA: 'Web',
  REFERRALS: 'Partner Referral',
  OTHER_CAMPAIGNS: 'Other',
  DIRECT_TRAFFIC: 'Web',
  OFFLINE: 'Purchased List',
  PAID_SOCIAL: 'Web',
};

export const LIFECYCLE_STAGES = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

export const LEAD_STATUSES = {
  open: 'Open - Not Contacted',
  working: 'Working - Contacted',
  converted: 'Closed - Converted',
  notConverted: 'Closed - Not Converted',
} as const;

export const LEAD_RATINGS: readonly string[] = ['Hot', 'Warm', 'Cold'];

/** HubSpot's default deal pipeline, with the Salesforce stage the same deal would be in. */
export const DEAL_STAGES: readonly { hubspot: string; salesforce: string; probability: number }[] = [
  { hubspot: 'appointmentscheduled', salesforce: 'Qualification', probability: 10 },
  { hubspot: 'qualifiedtobuy', salesforce: 'Needs Analysis', probability: 20 },
  { hubspot: 'presentationscheduled', salesforce: 'Value Proposition', probability: 50 },
  { hubspot: 'decisionmakerboughtin', salesforce: 'Id. Decision Makers', probability: 60 },
  { hubspot: 'contractsent', salesforce: 'Proposal/Price Quote', probability: 75 },
  { hubspot: 'closedwon', salesforce: 'Closed Won', probability: 100 },
  { hubspot: 'closedlost', salesforce: 'Closed Lost', probability: 0 },
];

/** Salesforce stages with no HubSpot stage of their own (Salesforce-only deals use them; the default mapping reads each as its nearest HubSpot stage). */
export const SALESFORCE_ONLY_STAGES: readonly { salesforce: string; probability: number }[] = [
  { salesforce: 'Prospecting', probability: 10 },
  { salesforce: 'Perception Analysis', probability: 70 },
  { salesforce: 'Negotiation/Review', probability: 90 },
];

export const CONTACT_ROLES: readonly string[] = [
  'Decision Maker',
  'Economic Buyer',
  'Evaluator',
  'Technical Buyer',
  'Influencer',
  'Business User',
];

export const CAMPAIGNS: readonly { name: string; type: string; budget: number }[] = [
  { name: 'Webinar: Attribution 101', type: 'Webinar', budget: 2_000 },
  { name: 'Webinar: Lead Scoring That Sales Trusts', type: 'Webinar', budget: 2_500 },
  { name: 'Dreamforce Booth', type: 'Trade Show', budget: 60_000 },
  { name: 'INBOUND Sponsorship', type: 'Trade Show', budget: 45_000 },
  { name: 'SaaStr Europa', type: 'Conference', budget: 20_000 },
  { name: 'Google Ads - Brand', type: 'Advertisement', budget: 15_000 },
  { name: 'LinkedIn Ads - RevOps Leaders', type: 'Advertisement', budget: 25_000 },
  { name: 'Email Nurture - New Leads', type: 'Email', budget: 1_000 },
  { name: 'Email Nurture - Product Updates', type: 'Email', budget: 1_000 },
  { name: 'Partner Co-Marketing Q3', type: 'Partners', budget: 8_000 },
  { name: 'Direct Mail - Enterprise Gifts', type: 'Direct Mail', budget: 12_000 },
  { name: 'Customer Reference Program', type: 'Other', budget: 3_000 },
];
