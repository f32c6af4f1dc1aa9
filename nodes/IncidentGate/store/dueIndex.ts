/**
 * When each scope next needs a tick, so a tick visits only the scopes with something due: a binary
 * min-heap with lazy deletion (an entry is live while it matches the scope's current due time) plus
 * the current due time per scope.
 */
export class DueIndex {
	private readonly due = new Map<string, number>();
	private heap: Array<[number, string]> = [];

	set(scope: string, at: number | undefined): void {
		if (at === undefined) {
			this.due.delete(scope);
			return;
		}
		if (this.due.get(scope) === at) return;
		this.due.set(scope, at);
		this.push([at, scope]);
		if (this.heap.length > 2 * this.due.size + 64) this.rebuild();
	}

	/** Removes and returns every scope due at `now`, earliest first. */
	takeDue(now: number): string[] {
		const scopes: string[] = [];
		while (this.heap.length > 0 && this.heap[0][0] <= now) {
			const [at, scope] = this.pop();
			if (this.due.get(scope) !== at) continue;
			this.due.delete(scope);
			scopes.push(scope);
		}
		return scopes;
	}

	private rebuild(): void {
		this.heap = [];
		for (const [scope, at] of this.due) this.push([at, scope]);
	}

	private push(entry: [number, string]): void {
		const heap = this.heap;
		heap.push(entry);
		for (let index = heap.length - 1; index > 0;) {
			const parent = (index - 1) >> 1;
			if (heap[parent][0] <= heap[index][0]) break;
			[heap[parent], heap[index]] = [heap[index], heap[parent]];
			index = parent;
		}
	}

	private pop(): [number, string] {
		const heap = this.heap;
		const top = heap[0];
		const last = heap.pop() as [number, string];
		if (heap.length > 0) {
			heap[0] = last;
			for (let index = 0; ;) {
				const left = 2 * index + 1;
				const right = left + 1;
				let smallest = index;
				if (left < heap.length && heap[left][0] < heap[smallest][0]) smallest = left;
				if (right < heap.length && heap[right][0] < heap[smallest][0]) smallest = right;
				if (smallest === index) break;
				[heap[smallest], heap[index]] = [heap[index], heap[smallest]];
				index = smallest;
			}
		}
		return top;
	}
}
