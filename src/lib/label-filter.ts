/** Docker's label filters: "key" (present) or "key=value" (equal); "label!" negates. */
export function matchesLabel(labels: Readonly<Record<string, string>>, spec: string): boolean {
  const eq = spec.indexOf('=');
  return eq === -1 ? spec in labels : labels[spec.slice(0, eq)] === spec.slice(eq + 1);
}

/** Every `label` filter holds and no `label!` filter does. */
export function matchesLabelFilters(labels: Readonly<Record<string, string>>, include: readonly string[] = [], exclude: readonly string[] = []): boolean {
  return include.every((spec) => matchesLabel(labels, spec)) && !exclude.some((spec) => matchesLabel(labels, spec));
}
