import { fixture, postSigned, webhookOptions } from './fixture';

describe('Incident Webhook Trigger: payload formats', () => {
	it('passes a normalized event through, keeping extra fields and defaulting source', async () => {
		const outcome = await postSigned(
			webhookOptions(),
			JSON.stringify({
				action: 'open',
				incidentId: 42,
				scope: '203.0.113.0/24',
				title: 'Flood',
				ticket: 'NOC-7',
			}),
		);
		expect(outcome.items).toEqual([
			{
				action: 'open',
				incidentId: '42',
				scope: '203.0.113.0/24',
				title: 'Flood',
				ticket: 'NOC-7',
				source: 'webhook',
				occurredAt: expect.any(String),
			},
		]);
	});

	it('accepts a list of normalized events, one item each', async () => {
		const outcome = await postSigned(
			webhookOptions(),
			JSON.stringify([
				{ action: 'resolve', incidentId: 'a', source: 'scrubber' },
				{ action: 'update', incidentId: 'b' },
			]),
		);
		expect(outcome.items).toEqual([
			{ action: 'resolve', incidentId: 'a', source: 'scrubber', occurredAt: expect.any(String) },
			{ action: 'update', incidentId: 'b', source: 'webhook', occurredAt: expect.any(String) },
		]);
	});

	it(
		'makes one "open" event per firing Alertmanager alert, ID = fingerprint, scope = the ' +
			'chosen label',
		async () => {
			const outcome = await postSigned(
				webhookOptions({ format: 'alertmanager', scopeLabel: 'prefix' }),
				fixture('alertmanager-firing.json'),
			);
			expect(outcome.items).toEqual([
				expect.objectContaining({
					action: 'open',
					incidentId: '5f1b9c2a7e0d4c31',
					scope: '203.0.113.0/24',
					title: 'Inbound traffic to 203.0.113.0/24 above 20 Gbit/s',
					source: 'alertmanager',
					alertname: 'InboundFlood',
					receiver: 'n8n-ddos',
					startsAt: '2024-05-14T09:41:03.123Z',
				}),
				expect.objectContaining({
					action: 'open',
					incidentId: 'a04e77d913c8b265',
					scope: '198.51.100.0/24',
				}),
			]);
		},
	);

	it('resolves the same Alertmanager incident (same fingerprint) when the alert resolves', async () => {
		const outcome = await postSigned(
			webhookOptions({ format: 'alertmanager', scopeLabel: 'prefix' }),
			fixture('alertmanager-resolved.json'),
		);
		expect(outcome.items).toEqual([
			expect.objectContaining({
				action: 'resolve',
				incidentId: '5f1b9c2a7e0d4c31',
				scope: '203.0.113.0/24',
			}),
		]);
	});

	it('leaves the scope out for alerts without the scope label', async () => {
		const outcome = await postSigned(
			webhookOptions({ format: 'alertmanager', scopeLabel: 'datacenter' }),
			fixture('alertmanager-firing.json'),
		);
		expect(outcome.items?.map((item) => 'scope' in item)).toEqual([false, false]);
	});

	it('opens on a FastNetMon ban and resolves the same attack on unban, scoped to the attacked IP', async () => {
		const options = webhookOptions({ format: 'fastnetmon' });
		const ban = await postSigned(options, fixture('fastnetmon-ban.json'));
		const unban = await postSigned(options, fixture('fastnetmon-unban.json'));
		const common = {
			incidentId: '041eb504-2b33-4ff7-a6b7-8235408d5062',
			scope: '203.0.113.10',
			source: 'fastnetmon',
		};
		expect(ban.items).toEqual([
			expect.objectContaining({
				...common,
				action: 'open',
				title: 'FastNetMon ban: syn_flood incoming attack on 203.0.113.10 (middle severity)',
			}),
		]);
		expect(unban.items).toEqual([expect.objectContaining({ ...common, action: 'resolve' })]);
		expect(ban.items?.[0].attackDetails).toMatchObject({
			attack_protocol: 'tcp',
			peak_attack_power: 282473,
		});
	});

	it('pairs FastNetMon notifications without an attack uuid by the attacked IP', async () => {
		const outcome = await postSigned(
			webhookOptions({ format: 'fastnetmon' }),
			JSON.stringify({ ip: '2001:db8::5', action: 'unban', alert_scope: 'host' }),
		);
		expect(outcome.items).toEqual([
			expect.objectContaining({
				action: 'resolve',
				incidentId: '2001:db8::5',
				scope: '2001:db8::5',
			}),
		]);
	});

	it('treats other FastNetMon actions as updates, or ignores them when told to', async () => {
		const partial = JSON.stringify({
			ip: '203.0.113.10',
			action: 'partial_block',
			alert_scope: 'host',
		});
		expect(
			(await postSigned(webhookOptions({ format: 'fastnetmon' }), partial)).items?.[0].action,
		).toBe('update');
		const ignoring = webhookOptions({ format: 'fastnetmon', options: { otherEvents: 'ignore' } });
		const outcome = await postSigned(ignoring, partial);
		expect(outcome).toMatchObject({ status: 200, items: undefined });
	});

	describe('custom mapping', () => {
		const mapping = {
			format: 'mapping',
			eventsPath: 'detections',
			idPath: 'attack.id',
			actionPath: 'state',
			scopePath: 'target.prefix',
			titlePath: 'attack.vector',
			openValues: 'STARTED, ongoing',
			resolveValues: 'ENDED',
			options: { source: 'edge-detector-1' },
		};
		const body = {
			detections: [
				{
					attack: { id: 'at-1', vector: 'UDP amplification' },
					state: 'started',
					target: { prefix: '203.0.113.0/24' },
				},
				{ attack: { id: 'at-2' }, state: 'Ended', target: { prefix: '198.51.100.0/24' } },
				{ attack: { id: 7 }, state: 'mitigating', target: { prefix: '192.0.2.0/24' } },
			],
		};

		it('reads ID, action, scope and title by path, with case-insensitive action lists', async () => {
			const outcome = await postSigned(webhookOptions(mapping), JSON.stringify(body));
			expect(outcome.items).toEqual([
				expect.objectContaining({
					action: 'open',
					incidentId: 'at-1',
					scope: '203.0.113.0/24',
					title: 'UDP amplification',
					source: 'edge-detector-1',
				}),
				expect.objectContaining({
					action: 'resolve',
					incidentId: 'at-2',
					scope: '198.51.100.0/24',
				}),
				expect.objectContaining({
					action: 'update',
					incidentId: '7',
					scope: '192.0.2.0/24',
					sourceAction: 'mitigating',
				}),
			]);
			expect(outcome.items?.[0].payload).toEqual(body.detections[0]);
		});

		it('maps a single-object body when no events path is set', async () => {
			const outcome = await postSigned(
				webhookOptions({ ...mapping, eventsPath: '' }),
				JSON.stringify(body.detections[0]),
			);
			expect(outcome.items).toEqual([
				expect.objectContaining({ action: 'open', incidentId: 'at-1' }),
			]);
		});
	});
});
