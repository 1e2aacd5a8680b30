import { useEffect, useState } from "preact/hooks";

/**
 * The cursors of the pages before the one shown, to go back: the API's cursors only go forward.
 * A new filter (`filterKey`) starts again at the first page.
 */
export function useCursors(filterKey: string) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setCursors([undefined]), [filterKey]);
  return {
    cursor: cursors[cursors.length - 1],
    pageNumber: cursors.length,
    newer: () => setCursors((c) => c.slice(0, -1)),
    older: (next: string) => setCursors((c) => [...c, next]),
  };
}

/** ← Newer, the page number, Older →. */
export function Pager({
  label,
  cursors,
  nextCursor,
}: {
  label: string;
  cursors: ReturnType<typeof useCursors>;
  nextCursor: string | null;
}) {
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" class="button" disabled={cursors.pageNumber === 1} onClick={cursors.newer}>
        ← Newer
      </button>
      <span class="muted">Page {cursors.pageNumber}</span>
      <button type="button" class="button" disabled={!nextCursor} onClick={() => nextCursor && cursors.older(nextCursor)}>
        Older →
      </button>
    </nav>
  );
}
