/** Runs tasks of the same key one after another, tasks of different keys side by side. */
export function serialByKey(): <T>(key: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    tails.set(key, tail);
    void tail.finally(() => tails.get(key) === tail && tails.delete(key));
    return next;
  };
}
