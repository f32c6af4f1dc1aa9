import type { IExecuteFunctions, INodeType } from 'n8n-workflow';

import { InputError, ProviderError } from '../../../nodes/shared/errors';
import { runProvider, type MitigationProvider } from '../../../nodes/shared/provider';
import { runNode, type RunOptions } from '../../helpers/runNode';

/**
 * A provider whose operations answer from the item's own parameters, so each test states what the
 * operation returns or throws and reads what the runner made of it.
 */
const provider: MitigationProvider<{ host: string }> = {
	name: 'exampleProvider',
	api: {
		provider: 'Example',
		credentialType: 'exampleApi',
		defaultBaseUrl: 'http://127.0.0.1:9',
		describeFailure: () => ({ message: 'unused' }),
	},
	readTarget(ctx, itemIndex) {
		const host = ctx.getNodeParameter('host', itemIndex) as string;
		if (!host) throw new InputError('No host given', 'Enter the host to protect');
		return { host };
	},
	describeTarget: (target) => target.host,
	operations: {
		getStatus: async () => ({ active: false, changed: false, warnings: [] }),
		activate: async (_target, { ctx, itemIndex }) => ({
			active: true,
			changed: true,
			warnings: ctx.getNodeParameter('warnings', itemIndex, []) as string[],
		}),
		withdraw: async () => {
			throw new ProviderError('Example refused the change', {
				provider: 'Example',
				hint: 'Give the token write access',
				httpCode: 403,
			});
		},
	},
};

const node = {
	description: { displayName: 'Example', name: 'example', properties: [] },
	async execute(this: IExecuteFunctions) {
		return await runProvider(this, provider);
	},
} as unknown as INodeType;

function run(items: Array<Record<string, unknown>>, continueOnFail = true) {
	const options: RunOptions = {
		parameters: {},
		itemParameters: items,
		items: items.map(() => ({ json: {} })),
		credentials: { exampleApi: {} },
		credentialTypes: [],
		continueOnFail,
	};
	return runNode(node, options);
}

describe('runProvider: one continueOnFail shape for every node', () => {
	it('a provider error names the provider, target and operation, with pairedItem', async () => {
		const { output } = await run([{ operation: 'withdraw', host: 'web-1' }]);
		expect(output[0]).toEqual([
			{
				json: {
					error: 'Example refused the change',
					description: 'Give the token write access',
					provider: 'exampleProvider',
					target: 'web-1',
					operation: 'withdraw',
				},
				pairedItem: { item: 0 },
			},
		]);
	});

	it('bad input fails before the target is known: target is null, the rest is there', async () => {
		const { output } = await run([
			{ operation: 'getStatus', host: 'web-1' },
			{ operation: 'activate', host: '' },
		]);
		expect(output[0][1]).toEqual({
			json: {
				error: 'No host given',
				description: 'Enter the host to protect',
				provider: 'exampleProvider',
				target: null,
				operation: 'activate',
			},
			pairedItem: { item: 1 },
		});
		expect(output[0][0].json).toMatchObject({ target: 'web-1', active: false });
	});

	it('an unknown operation is reported with its name and no target', async () => {
		const { output } = await run([{ operation: 'reboot', host: 'web-1' }]);
		expect(output[0][0].json).toEqual({
			error: "Unknown operation 'reboot'",
			description: null,
			provider: 'exampleProvider',
			target: null,
			operation: 'reboot',
		});
	});

	it('without continueOnFail the error is thrown with the item index and description', async () => {
		await expect(run([{ operation: 'withdraw', host: 'web-1' }], false)).rejects.toMatchObject({
			message: 'Example refused the change',
			description: 'Give the token write access',
			context: { itemIndex: 0 },
		});
	});
});

describe('runProvider: warnings go to the output pane and stay in the item', () => {
	it('shows one item’s warnings as output-pane hints', async () => {
		const warnings = ['This firewall protects nothing', 'Management access is open to all'];
		const { output, hints } = await run([{ operation: 'activate', host: 'web-1', warnings }]);
		expect(output[0][0].json.warnings).toEqual(warnings);
		expect(hints).toEqual(
			warnings.map((message) => ({ message, type: 'warning', location: 'outputPane' })),
		);
	});

	it('names the target when several items warn, and shows a repeated warning once', async () => {
		const warnings = ['This firewall protects nothing'];
		const { hints } = await run([
			{ operation: 'activate', host: 'web-1', warnings },
			{ operation: 'activate', host: 'web-2', warnings },
			{ operation: 'activate', host: 'web-2', warnings },
		]);
		expect(hints.map((hint) => hint.message)).toEqual([
			'web-1: This firewall protects nothing',
			'web-2: This firewall protects nothing',
		]);
	});

	it('adds no hint when no item warns', async () => {
		const { hints } = await run([
			{ operation: 'getStatus', host: 'web-1' },
			{ operation: 'activate', host: 'web-2' },
		]);
		expect(hints).toEqual([]);
	});
});
