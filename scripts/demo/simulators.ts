import { LOCKDOWN_PREFIX as DIGITALOCEAN_LOCKDOWN_PREFIX } from '../../nodes/DigitalOcean/operations';
import { MANAGEMENT_LABEL as LINODE_LOCKDOWN_RULE } from '../../nodes/Linode/operations';
import { LOCKDOWN_PREFIX as VULTR_LOCKDOWN_PREFIX } from '../../nodes/Vultr/operations';
import { hex32 } from '../../test/simulators/cloudflare';
import type { PagerDutySimulator } from '../../test/simulators/pagerDuty';
import { DISTRIBUTION, shieldCredentials, startShield } from '../../test/unit/awsShield/fixture';
import {
	ACCOUNT,
	PREFIX,
	TOKEN as CLOUDFLARE_TOKEN,
	ZONE,
	startCloudflare,
} from '../../test/unit/cloudflare/fixture';
import {
	TOKEN as DIGITALOCEAN_TOKEN,
	startDigitalOcean,
} from '../../test/unit/digitalOcean/fixture';
import {
	SERVER as HETZNER_SERVER,
	SERVER_IP as HETZNER_SERVER_IP,
	hetznerCredentials,
	startHetzner,
} from '../../test/unit/hetzner/fixture';
import { TOKEN as LINODE_TOKEN, startLinode } from '../../test/unit/linode/fixture';
import {
	BLOCK as OVH_BLOCK,
	IP as OVH_IP,
	SINGLE as OVH_SINGLE_IP_BLOCK,
	ovhCredentials,
	startOvh,
} from '../../test/unit/ovh/fixture';
import {
	SERVICE,
	TOKEN as PAGERDUTY_TOKEN,
	startPagerDuty,
} from '../../test/unit/pagerDuty/fixture';
import { KEY as VULTR_KEY, startVultr } from '../../test/unit/vultr/fixture';

/**
 * The provider simulators of the test suite, seeded with the unit tests' fixtures, as the demo's
 * stand-in for the providers' APIs: what each one's demo credential holds, which of its resources
 * the examples' nodes point at, and a readable summary of its mitigation-relevant state for the
 * status page.
 */

export interface DemoCredential {
	type: string;
	/** Named so that the n8n credentials list says where it points. */
	name: string;
	data: Record<string, unknown>;
}

export interface SimulatorState {
	/** Whether this provider's mitigation is on right now. */
	mitigating: boolean;
	/** One line per resource: what a user would check in the provider's console. */
	resources: string[];
}

/**
 * What the demo reads of a simulator (or of a real daemon it runs): its log only grows, and every
 * change of its state comes with a new entry (the demo reads the state only then).
 */
export interface WatchedLog {
	log: Array<{ method: string; path: string; status: number | string }>;
	/** Requests that changed its state. */
	writes(): unknown[];
}

export interface DemoSimulator {
	name: string;
	sim: WatchedLog & { baseUrl: string; stop(): Promise<void> };
	credential: DemoCredential;
	/** Node type (without the package prefix) -> target parameter -> this simulator's resource id. */
	targets: Record<string, Record<string, string>>;
	/** Per example file, targets that replace `targets` for a node type. */
	exampleTargets?: Record<string, Record<string, Record<string, string>>>;
	state(): SimulatorState;
}

/**
 * Addresses the demo's detectors report as attacked, chosen so that each reaches a provider through
 * the examples.
 */
export const ATTACKED = {
	/** Example 02 routes alerts labelled hoster=ovh to OVH, on the address's /32 block. */
	ovh: OVH_SINGLE_IP_BLOCK.split('/')[0],
	hetzner: HETZNER_SERVER_IP,
	/** Example 03 sends each FastNetMon-banned address to one cloud firewall. */
	digitalOcean: '203.0.113.10',
	vultr: '203.0.113.20',
	linode: '203.0.113.30',
	/** Example 04 scrubs its own Magic Transit prefix and blackholes this address in it. */
	threeLayers: '192.0.2.40',
};

/** The addresses FastNetMon bans, per example: each reaches its providers there. */
export const FASTNETMON_BANS: Record<string, string[]> = {
	'03-fastnetmon-firewall-lockdown.json': [ATTACKED.digitalOcean, ATTACKED.vultr, ATTACKED.linode],
	'04-three-layers.json': [ATTACKED.threeLayers],
};

const THREE_LAYERS_PREFIX = hex32('prefix-three-layers');

export const DETECTOR_SECRET = 'demo-detector-secret-0123456789abcdef';

export async function startDemoSimulators(): Promise<{
	simulators: DemoSimulator[];
	pagerDuty: PagerDutySimulator;
}> {
	const cloudflare = await startCloudflare();
	// Its own prefix, so that examples 01 and 04 never advertise or withdraw the other's.
	cloudflare.addPrefix(ACCOUNT, {
		id: THREE_LAYERS_PREFIX,
		cidr: '192.0.2.0/24',
		description: 'three layers',
	});
	const digitalOcean = await startDigitalOcean();
	const vultr = await startVultr();
	const linode = await startLinode();
	const ovh = await startOvh();
	// The attacked OVH address has the user's own Edge Network Firewall rules, disabled until
	// attacked.
	ovh.addFirewall(OVH_SINGLE_IP_BLOCK, ATTACKED.ovh, false, [
		{ sequence: 0, action: 'permit', protocol: 'tcp', tcpOption: 'established' },
		{ sequence: 1, action: 'permit', protocol: 'tcp', destinationPort: 'eq 22' },
		{ sequence: 2, action: 'permit', protocol: 'tcp', destinationPort: 'eq 443' },
		{ sequence: 19, action: 'deny', protocol: 'ipv4' },
	]);
	const hetzner = await startHetzner();
	const shield = await startShield();
	const pagerDuty = await startPagerDuty();

	const simulators: DemoSimulator[] = [
		{
			name: 'Cloudflare',
			sim: cloudflare,
			credential: {
				type: 'cloudflareMitigationApi',
				name: 'Cloudflare (demo simulator)',
				data: { apiToken: CLOUDFLARE_TOKEN, baseUrl: cloudflare.baseUrl, accountId: '' },
			},
			targets: {
				cloudflareMagicTransit: { accountId: ACCOUNT, prefixId: PREFIX },
				cloudflareUnderAttack: { zoneId: ZONE },
			},
			exampleTargets: {
				'04-three-layers.json': {
					cloudflareMagicTransit: { accountId: ACCOUNT, prefixId: THREE_LAYERS_PREFIX },
				},
			},
			state: () => {
				const prefixes = [...cloudflare.accounts.values()].flatMap((account) => [
					...account.prefixes.values(),
				]);
				const zones = [...cloudflare.zones.values()];
				return {
					mitigating:
						prefixes.some((p) => p.advertised) ||
						zones.some((z) => z.security_level === 'under_attack'),
					resources: [
						...prefixes.map(
							(p) =>
								`Magic Transit prefix ${p.cidr}: ${p.advertised ? 'ADVERTISED' : 'not advertised'}`,
						),
						...zones.map((z) => `zone ${z.name}: security level ${z.security_level}`),
					],
				};
			},
		},
		{
			name: 'DigitalOcean',
			sim: digitalOcean.sim,
			credential: {
				type: 'digitalOceanMitigationApi',
				name: 'DigitalOcean (demo simulator)',
				data: { accessToken: DIGITALOCEAN_TOKEN, baseUrl: digitalOcean.sim.baseUrl },
			},
			targets: { digitalOceanFirewall: { firewallId: digitalOcean.web.id } },
			state: () => {
				const firewalls = [...digitalOcean.sim.firewalls.values()];
				return {
					mitigating: firewalls.some((f) => f.name.startsWith(DIGITALOCEAN_LOCKDOWN_PREFIX)),
					resources: firewalls.map(
						(f) =>
							`firewall ${f.name}: Droplets [${f.droplet_ids.join(', ')}], ` +
							`tags [${f.tags.join(', ')}], ${f.inbound_rules.length} ` +
							'inbound rules',
					),
				};
			},
		},
		{
			name: 'Vultr',
			sim: vultr.sim,
			credential: {
				type: 'vultrMitigationApi',
				name: 'Vultr (demo simulator)',
				data: { apiKey: VULTR_KEY, baseUrl: vultr.sim.baseUrl },
			},
			targets: { vultrFirewall: { firewallGroupId: vultr.web.id } },
			state: () => {
				const groups = [...vultr.sim.groups.values()];
				const instances = [...vultr.sim.instances.values()];
				return {
					mitigating: groups.some((g) => g.description.startsWith(VULTR_LOCKDOWN_PREFIX)),
					resources: groups.map((g) => {
						const members = instances
							.filter((i) => i.firewall_group_id === g.id)
							.map((i) => i.label);
						return (
							`firewall group ${g.description}: instances ` +
							`[${members.join(', ')}], ${g.rules.length} rules`
						);
					}),
				};
			},
		},
		{
			name: 'Linode',
			sim: linode.sim,
			credential: {
				type: 'linodeMitigationApi',
				name: 'Linode (demo simulator)',
				data: { accessToken: LINODE_TOKEN, baseUrl: linode.sim.baseUrl },
			},
			targets: { linodeFirewall: { firewallId: String(linode.web.id) } },
			state: () => {
				const firewalls = [...linode.sim.firewalls.values()];
				const lockedDown = (rules: { label?: string }[] | null) =>
					(rules ?? []).some((r) => r.label === LINODE_LOCKDOWN_RULE);
				return {
					mitigating: firewalls.some((f) => lockedDown(f.rules.inbound)),
					resources: firewalls.map(
						(f) =>
							`firewall ${f.label}: Linodes [${f.linodes.join(', ')}], ` +
							`${f.rules.inbound?.length ?? 0} inbound rules, inbound ` +
							`policy ${f.rules.inbound_policy}` +
							(lockedDown(f.rules.inbound) ? ' (LOCKED DOWN)' : ''),
					),
				};
			},
		},
		{
			name: 'OVH',
			sim: ovh,
			credential: {
				type: 'ovhMitigationApi',
				name: 'OVH (demo simulator)',
				data: ovhCredentials(ovh),
			},
			targets: { ovhDdosProtection: { ipBlock: OVH_BLOCK, ip: OVH_IP } },
			state: () => {
				const blocks = [...ovh.blocks.values()];
				const firewalls = blocks.flatMap((b) =>
					[...b.firewalls.values()].map((f) => ({ block: b.ip, f })),
				);
				return {
					mitigating: firewalls.some(({ block, f }) => ovh.edgeFiltering(block, f.ipOnFirewall)),
					resources: blocks.map((b) => {
						const entries = [...b.firewalls.values()].map(
							(f) =>
								`${f.ipOnFirewall} Edge Network Firewall ${f.enabled ? 'ENABLED' : 'disabled'}` +
								` (${f.state}), ${f.rules.size} rules`,
						);
						const none = 'no Edge Network Firewall';
						return `IP block ${b.ip}: ${entries.length ? entries.join(', ') : none}`;
					}),
				};
			},
		},
		{
			name: 'Hetzner Robot',
			sim: hetzner,
			credential: {
				type: 'hetznerRobotMitigationApi',
				name: 'Hetzner Robot (demo simulator)',
				data: hetznerCredentials(hetzner),
			},
			targets: { hetznerRobotFirewall: { server: String(HETZNER_SERVER) } },
			state: () => {
				const servers = [...hetzner.servers.entries()];
				return {
					mitigating: servers.some(([, s]) => s.firewall?.status === 'active'),
					resources: servers.map(([number, s]) =>
						s.firewall
							? `server #${number} ${s.server_ip}: firewall ` +
								`${s.firewall.status.toUpperCase()}, ` +
								`${s.firewall.rules.input.length} input rules`
							: `server #${number} ${s.server_ip}: no firewall`,
					),
				};
			},
		},
		{
			name: 'AWS Shield Advanced',
			sim: shield,
			credential: {
				type: 'awsShieldMitigationApi',
				name: 'AWS Shield Advanced (demo simulator)',
				data: shieldCredentials(shield),
			},
			targets: { awsShieldAdvanced: { resourceArn: DISTRIBUTION } },
			state: () => ({
				mitigating: shield.protections.size > 0,
				resources: [...shield.resources.keys()].map(
					(arn) => `${arn}: ${shield.protectionOf(arn) ? 'PROTECTED' : 'not protected'}`,
				),
			}),
		},
		{
			name: 'PagerDuty',
			sim: pagerDuty,
			credential: {
				type: 'pagerDutyMitigationApi',
				name: 'PagerDuty (demo simulator)',
				data: { apiToken: PAGERDUTY_TOKEN, baseUrl: pagerDuty.baseUrl },
			},
			targets: { pagerDutyIncidentTrigger: { serviceId: SERVICE } },
			// A detector, not a mitigation: its state is the webhook subscription the trigger created.
			state: () => ({
				mitigating: false,
				resources: [...pagerDuty.subscriptions.values()].map(
					(s) =>
						`webhook subscription ${s.id} -> ${s.delivery_method.url} ` +
						`(${s.active && !s.delivery_method.temporarily_disabled ? 'active' : 'disabled'})`,
				),
			}),
		},
	];
	return { simulators, pagerDuty };
}

/** The demo's own credential for the Incident Webhook Trigger: the secret its detectors send. */
export const detectorCredential: DemoCredential = {
	type: 'incidentWebhookSecretApi',
	name: 'Detector secret (demo)',
	data: { secret: DETECTOR_SECRET },
};
