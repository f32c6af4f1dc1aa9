import type Redis from 'ioredis';

import type { GateRedis } from '../IncidentGate/store/redisStore';
import type { LiveGate } from '../IncidentGate/store/staticDataStore';
import type { Batch, TriggerState } from '../IncidentWebhook/batching';
import { RecentKeys } from '../IncidentWebhook/webhookRequest';
import type { SubscriptionRecord } from '../PagerDuty/subscription';

/**
 * Everything this package keeps in the n8n process between executions, in one place.
 *
 * n8n loads a node package once per process and runs every execution of every workflow in it, so
 * state kept here is shared by overlapping executions, other workflows and manual runs in the
 * editor. None of it survives a restart of n8n, and none of it is seen by another process: in queue
 * mode each worker (and the main instance) has its own, empty at start. What must outlive the
 * process is kept at the provider, in the workflow's static data or in Redis; each field says which
 * copy it stands beside.
 */
export const processMemory = {
	/**
	 * Activation records: key -> the record as JSON, or null once withdrawn (a tombstone, so that an
	 * older static-data copy is not taken for a live activation). Static data is saved as a whole
	 * document at the end of a production execution, and not at all for a manual run, so
	 * overlapping executions would overwrite each other's records there; this copy sees the last
	 * write of each key. The static-data copy is what a withdraw after a restart finds.
	 */
	activationRecords: new Map<string, string | null>(),

	/**
	 * OVH: seconds to add to this host's clock to get OVH's, per API root, shared by the node and
	 * the credential test. Every signed request carries OVH's time; GET /auth/time is read once and
	 * again only when OVH refuses a signature for its time. After a restart (or on another worker) it
	 * is read again on first use.
	 */
	ovhClockOffsets: new Map<string, number>(),

	/**
	 * PagerDuty: the latest subscription record per `workflowId/triggerId`. n8n writes static data
	 * back whole at the end of every execution, so an execution that loaded it before a repair can
	 * overwrite the repair with the old record; this copy heals that while the process lives. The
	 * static-data copy is what survives a restart.
	 */
	pagerDutySubscriptions: new Map<string, SubscriptionRecord>(),

	/**
	 * PagerDuty: deliveries refused since the last check for a signature made with another secret,
	 * per `workflowId/triggerId` (with a suspension, the sign of a secret rotated on PagerDuty's
	 * side, which only a new subscription repairs). A restart or a delivery to another worker loses
	 * the count; the check node then re-enables the suspended subscription instead of re-creating
	 * it.
	 */
	pagerDutyForeignSignatures: new Map<string, number>(),

	/**
	 * PagerDuty: when each trigger's deactivation began deleting its subscription
	 * (`workflowId/triggerId` -> ms). A scheduled check that loaded the record before then must not
	 * re-create the subscription it finds deleted. Cleared by a newer record (a new activation).
	 * Only this process sees it: in queue mode a check running on a worker does not.
	 */
	pagerDutyDeactivations: new Map<string, number>(),

	/**
	 * Incident Gate: one Redis client per server (ioredis reconnects on its own), shared by every
	 * execution so that a burst of events does not open a connection each. The state itself is in
	 * Redis; a restart only opens new connections.
	 */
	gateRedisClients: new Map<string, Promise<GateRedis>>(),

	/**
	 * Incident Gate without Redis: one live copy of each gate's state, decided on synchronously so
	 * that overlapping executions see each other's decisions (each execution has its own snapshot
	 * of static data). Static data keeps the copy a restart loads; in queue mode this store is
	 * refused, because workers would each decide on their own copy.
	 */
	liveGates: new Map<string, LiveGate>(),

	/**
	 * Incident Gate: the wall clock read once per process with the monotonic clock at that moment,
	 * so the gate clock never jumps when the system clock is stepped. A restart reads it again; the
	 * gate continues from the reading saved with its state.
	 */
	gateClockOrigin: undefined as { wall: number; mono: number } | undefined,

	/**
	 * Incident Gate: the last receipt time given to an event without its own time, so that the next
	 * one is strictly later and a batch keeps its order. Only the order within a process matters.
	 */
	gateLastReceipt: 0,

	/**
	 * Incident Webhook Trigger: the keys of signed requests already accepted (about 100 bytes each,
	 * at most 500,000; a full store refuses rather than forgets), so a replay inside the freshness
	 * window starts nothing. Another process (a queue-mode webhook process) has its own: the README
	 * says so, and offers the Redis replay cache below, which every process shares. After a restart
	 * only requests inside the window can be replayed, and only once.
	 */
	webhookAcceptedRequests: new RecentKeys(500_000),

	/**
	 * Incident Webhook Trigger with the Redis replay cache: one Redis client per server, shared by
	 * every request (ioredis reconnects on its own). The accepted requests themselves are
	 * in Redis, seen by every process; a restart only opens a new connection.
	 */
	webhookReplayRedis: {
		clients: new Map<string, Promise<Redis>>(),
	},

	/**
	 * Incident Webhook Trigger: what each trigger read from its credentials (the shared secrets, the
	 * Redis replay cache's connection) for one second after it was read, because n8n's credential
	 * read costs tens of milliseconds per request in a storm. Read again after a restart.
	 */
	webhookRecentCredentials: new Map<string, { value: unknown; loadedAt: number }>(),

	/**
	 * Incident Webhook Trigger batching: the open batch and last start of each trigger, the batches
	 * waiting to start, and whether the process is stopping (then every batch starts at once and
	 * later requests are not batched). A batch still waiting when the process is killed is lost;
	 * on SIGTERM or SIGINT they all start first.
	 */
	webhookBatching: {
		triggers: new Map<string, TriggerState>(),
		waiting: new Set<Batch>(),
		stopListenerInstalled: false,
		stopping: false,
	},
};
