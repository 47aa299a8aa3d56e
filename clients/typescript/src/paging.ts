/** Following Herald's cursor paging (`next_cursor`, or the `links[]` entry with `rel: "next"`). */

export interface Page<T> {
  items: T[];
  nextCursor?: string | null | undefined;
  links?: { href: string; rel: string }[] | undefined;
}

function cursorOf<T>(page: Page<T>): string | undefined {
  if (page.nextCursor) {
    return page.nextCursor;
  }
  const next = page.links?.find((link) => link.rel === "next");
  return next ? (new URL(next.href).searchParams.get("cursor") ?? undefined) : undefined;
}

/** Yields every item of every page; `fetchPage(undefined)` is the first page. */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.items;
    const next = cursorOf(page);
    if (next === undefined || next === cursor || page.items.length === 0) {
      return;
    }
    cursor = next;
  }
}
