/**
 * Offset paging for the API's row lists: no list field answers more than 100 rows per request
 * (`first` / `limit` 1–100, the server refuses 101 with BAD_USER_INPUT), so helpers that want every
 * row fetch page after page until a short page (the way `jobs.events()` pages with `afterSeq`).
 */

/** The API's largest page. */
export const PAGE_SIZE = 100;

/**
 * Every row of an offset-paged list. `fetchPage(offset, first)` fetches one page; `fetched` is a
 * first page already in hand (fetched at offset 0 with `first` = PAGE_SIZE), so nothing is asked
 * twice. Stops at the first page shorter than PAGE_SIZE, or when `total` rows are in.
 */
export async function allPages<T>(
  fetchPage: (offset: number, first: number) => Promise<readonly T[]>,
  fetched?: readonly T[],
  total?: number,
): Promise<T[]> {
  const all: T[] = fetched ? [...fetched] : [];
  let last = fetched ? fetched.length : PAGE_SIZE;
  while (last >= PAGE_SIZE && (total === undefined || all.length < total)) {
    const page = await fetchPage(all.length, PAGE_SIZE);
    all.push(...page);
    last = page.length;
  }
  return all;
}
