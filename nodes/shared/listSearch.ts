import type {
	ILoadOptionsFunctions,
	INodeListSearchItems,
	INodeListSearchResult,
} from 'n8n-workflow';

import { ProviderClient, type ProviderApiSpec } from './http';

/**
 * What a resource locator's "From List" mode shows: one provider list, filtered by what the user
 * typed.
 */
export interface ListSearchSpec<T> {
	api: ProviderApiSpec;
	/**
	 * Parameters of the node the list depends on (e.g. the account a prefix belongs to): while one is
	 * empty the list is empty and nothing is requested. Their values are passed to `list` by name.
	 */
	requires?: string[];
	list(client: ProviderClient, current: Record<string, string>): Promise<T[]>;
	/** Items never offered, e.g. the firewalls this package creates for its own lockdowns. */
	hide?(item: T): boolean;
	/** The fields a search matches. */
	searchFields(item: T): Array<string | number | undefined>;
	toResult(item: T): INodeListSearchItems;
}

/** A listSearch method for a node's `methods.listSearch`, from its spec. */
export function listSearch<T>(spec: ListSearchSpec<T>) {
	return async function (
		this: ILoadOptionsFunctions,
		filter?: string,
	): Promise<INodeListSearchResult> {
		const current: Record<string, string> = {};
		for (const name of spec.requires ?? []) {
			const value = this.getCurrentNodeParameter(name, { extractValue: true });
			current[name] = typeof value === 'string' ? value.trim() : '';
			if (!current[name]) return { results: [] };
		}
		const client = await ProviderClient.create(this, spec.api);
		const items = await spec.list(client, current);
		return {
			results: items
				.filter((item) => !spec.hide?.(item) && matchesSearch(filter, ...spec.searchFields(item)))
				.map((item) => spec.toResult(item)),
		};
	};
}

/** Whether what the user typed appears in any of a listed item's fields (case-insensitive). */
export function matchesSearch(
	filter: string | undefined,
	...fields: Array<string | number | undefined>
): boolean {
	const needle = filter?.trim().toLowerCase() ?? '';
	return (
		!needle ||
		fields
			.filter((field) => field !== undefined)
			.join(' ')
			.toLowerCase()
			.includes(needle)
	);
}
