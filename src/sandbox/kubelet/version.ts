/** Kubelet version facts that change node log query behavior. */
export interface KubeletVersion {
  major: number;
  minor: number;
}

export function parseKubeletVersion(v: string): KubeletVersion {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : { major: 1, minor: 36 };
}

/** Whether the NodeLogQuery gate is effectively on: explicit, locked on from 1.36, or via AllAlpha/AllBeta. */
export function nodeLogQueryGateOn(v: KubeletVersion, gates: Record<string, boolean>): boolean {
  if (v.major !== 1 || v.minor < 27) return v.major > 1;
  if (v.minor >= 36) return true;
  if (gates.NodeLogQuery !== undefined) return gates.NodeLogQuery;
  return v.minor < 30 ? gates.AllAlpha === true : gates.AllBeta === true;
}

/** v1.36 and later (GA). */
export function isGa(v: KubeletVersion): boolean {
  return v.major > 1 || v.minor >= 36;
}
