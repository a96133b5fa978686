import { z } from "zod";

// How far behind the node we are: the node's own view of its tip, from its RPC `/v2/info`.
const infoSchema = z.looseObject({
  stacks_tip_height: z.number().int(),
  burn_block_height: z.number().int(),
  stacks_tip: z.string().optional(),
});

export type NodeStatus =
  | { reachable: true; stacksTipHeight: number; burnBlockHeight: number; blocksBehind: number | null }
  | { reachable: false; error: string };

export async function nodeStatus(rpcUrl: string, indexedHeight: number | null, timeoutMs = 1000): Promise<NodeStatus> {
  try {
    const res = await fetch(`${rpcUrl.replace(/\/$/, "")}/v2/info`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { reachable: false, error: `GET /v2/info answered ${res.status}` };
    const info = infoSchema.parse(await res.json());
    return {
      reachable: true,
      stacksTipHeight: info.stacks_tip_height,
      burnBlockHeight: info.burn_block_height,
      blocksBehind: indexedHeight === null ? null : Math.max(0, info.stacks_tip_height - indexedHeight),
    };
  } catch (err) {
    return { reachable: false, error: (err as Error).message };
  }
}
