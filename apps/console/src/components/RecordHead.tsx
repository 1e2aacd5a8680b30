import type { ComponentChildren } from "preact";
import { href } from "../router.js";

/** The head of one record's page: the way back to its list, its id as the title, Refresh and any more actions. */
export function RecordHead({
  titleId,
  list,
  id,
  onRefresh,
  children,
}: {
  titleId: string;
  list: { segment: string; label: string };
  id: string;
  onRefresh: () => void;
  children?: ComponentChildren;
}) {
  return (
    <>
      <p class="crumbs">
        <a href={href(list.segment)}>{list.label}</a> /
      </p>
      <div class="page-head">
        <h1 id={titleId} class="id-title">
          {id}
        </h1>
        <div class="actions">
          <button type="button" class="button" onClick={onRefresh}>
            Refresh
          </button>
          {children}
        </div>
      </div>
    </>
  );
}
