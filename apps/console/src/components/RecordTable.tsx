import type { ComponentChildren } from "preact";

/** A column's heading: its name, or its name with whether it holds numbers (set right) or only actions (named for screen readers alone). */
export type Column = string | { name: string; numbers?: boolean; actions?: boolean };

/** The heading row of a table. */
export function ColumnHeads({ columns }: { columns: Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => {
          const { name, numbers, actions } = typeof column === "string" ? { name: column } : column;
          return (
            <th scope="col" key={name} class={numbers ? "number" : undefined}>
              {actions ? <span class="visually-hidden">{name}</span> : name}
            </th>
          );
        })}
      </tr>
    </thead>
  );
}

/** The column of a row's buttons: no heading on screen. */
export const ACTIONS: Column = { name: "Actions", actions: true };

/**
 * A table of records, scrolling sideways on a narrow screen: `kind` names it for the style
 * sheet, `caption` says to screen readers what it lists, and the rows are its children.
 */
export function RecordTable({
  kind,
  caption,
  columns,
  children,
}: {
  kind: string;
  caption?: string;
  columns: Column[];
  children: ComponentChildren;
}) {
  return (
    <div class="table-wrap">
      <table class={kind}>
        {caption && <caption class="visually-hidden">{caption}</caption>}
        <ColumnHeads columns={columns} />
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
