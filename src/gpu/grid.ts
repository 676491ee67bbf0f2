/**
 * Workgroup grid for `items` independent invocations in workgroups of `workgroupSize`: one
 * dimension while it fits the adapter's maxComputeWorkgroupsPerDimension, a second one beyond.
 * Shaders fold the two back into one index: `(wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid`.
 */
export function workgroupGrid(items: number, workgroupSize: number, maxPerDimension: number): [number, number] {
  const groups = Math.ceil(items / workgroupSize);
  if (groups <= maxPerDimension) return [groups, 1];
  const rows = Math.ceil(groups / maxPerDimension);
  return [Math.ceil(groups / rows), rows];
}
