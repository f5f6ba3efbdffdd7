/** Times in the viewer's local time (UTC in the title on hover), durations and rates, short. */
const local = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

export function localTime(iso: string | null | undefined): string {
  return iso == null ? '' : local.format(new Date(iso));
}

export function utcTitle(iso: string | null | undefined): string | undefined {
  return iso == null ? undefined : `${new Date(iso).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds == null) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function rate(perMinute: number | null | undefined, unit: string | null | undefined): string {
  if (perMinute == null) return '';
  const value = perMinute >= 100 ? Math.round(perMinute).toLocaleString() : perMinute.toFixed(1);
  return `${value} ${unit ?? 'items'}/min`;
}

export function label(status: string): string {
  return status.charAt(0) + status.slice(1).toLowerCase().replace(/_/g, ' ');
}
