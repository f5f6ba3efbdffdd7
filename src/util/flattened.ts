/**
 * V8 keeps a string made by `+` or a template as a tree of its pieces (13 characters or more:
 * a cons string, about 32 bytes per link). Reading one character flattens it in place into one
 * sequential string, and the next GC drops the pieces. For strings kept a long time, in
 * thousands: Node's `randomUUID()` alone is a tree of about a dozen links (some 380 bytes
 * instead of 56 for its 36 characters).
 */
export function flattened(text: string): string {
  text.charCodeAt(0);
  return text;
}
